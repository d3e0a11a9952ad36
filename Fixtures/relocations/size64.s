# expect: 0
# R_X86_64_SIZE64: Z + A, 64 bits, Z the symbol's st_size. A global object in a movabs
# immediate and in data (with a negative addend), a COMMON symbol, and a weak undefined symbol
# with an addend.
	.text
	.globl main
	.type main, @function
main:
	movabs $table@SIZE, %rax
	cmp $40, %rax
	jne 1f
	cmpq $40, sizes(%rip)
	jne 2f
	cmpq $39, sizes+8(%rip)
	jne 3f
	cmpq $4096, sizes+16(%rip)
	jne 4f
	cmpq $-1, sizes+24(%rip)
	jne 5f
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
	.size main, .-main

	.data
	.align 8
	.globl table
	.type table, @object
table:
	.zero 40
	.size table, 40
sizes:
	.quad table@SIZE
	.quad table@SIZE - 1
	.quad buffer@SIZE
	.quad missing@SIZE - 1

	.comm buffer, 4096, 32
	.weak missing
	.section .note.GNU-stack,"",@progbits
