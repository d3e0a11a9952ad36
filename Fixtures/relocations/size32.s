# expect: 0
# R_X86_64_SIZE32: Z + A, unsigned 32 bits, Z the symbol's st_size. A global object (in an
# immediate and in data, with an addend), a COMMON symbol (its size, not its alignment), a
# function, and a weak undefined symbol (0).
	.text
	.globl main
	.type main, @function
main:
	mov $table@SIZE, %eax
	cmp $24, %eax
	jne 1f
	cmpl $24, sizes(%rip)
	jne 2f
	cmpl $27, sizes+4(%rip)
	jne 3f
	cmpl $48, sizes+8(%rip)
	jne 4f
	cmpl $main_end - main, sizes+12(%rip)
	jne 5f
	cmpl $0, sizes+16(%rip)
	jne 6f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
3:	mov $3, %eax
	ret
4:	mov $4, %eax
	ret
5:	mov $5, %eax
	ret
6:	mov $6, %eax
	ret
main_end:
	.size main, .-main

	.data
	.align 8
	.globl table
	.type table, @object
table:
	.quad 1, 2, 3
	.size table, 24
sizes:
	.long table@SIZE
	.long table@SIZE + 3
	.long buffer@SIZE
	.long main@SIZE
	.long missing@SIZE

	.comm buffer, 48, 16
	.weak missing
	.section .note.GNU-stack,"",@progbits
