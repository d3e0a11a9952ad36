# expect: 0
# R_X86_64_SIZE64: Z + A, 64 bits, against symbols the host provides: Z is the st_size of the
# host library's definition (libc's 'environ' is an 8-byte object), as GNU ld takes it from
# the shared library's dynamic symbol table. R_X86_64_SIZE32 likewise.
	.text
	.globl main
	.type main, @function
main:
	cmpq $8, sizes(%rip)
	jne 1f
	cmpq $12, sizes+8(%rip)
	jne 2f
	cmpl $8, sizes+16(%rip)
	jne 3f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
3:	mov $3, %eax
	ret
	.size main, .-main

	.data
	.align 8
sizes:
	.quad environ@SIZE
	.quad environ@SIZE + 4
	.long environ@SIZE

	.section .note.GNU-stack,"",@progbits
