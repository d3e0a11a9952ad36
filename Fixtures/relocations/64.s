# expect: 0
# R_X86_64_64: S + A, 64 bits. Pointers to module data and code (positive and negative
# addends), to a host function and to a weak undefined symbol (0).
	.text
	.globl main
	.type main, @function
main:
	lea table+16(%rip), %rcx
	cmp pointers(%rip), %rcx
	jne 1f
	lea table-8(%rip), %rcx
	cmp pointers+8(%rip), %rcx
	jne 2f
	lea helper(%rip), %rcx
	cmp pointers+16(%rip), %rcx
	jne 3f
	cmpq $0, pointers+24(%rip)
	jne 4f
	# Call the host's labs through the stored pointer.
	mov $-9, %rdi
	sub $8, %rsp
	call *pointers+32(%rip)
	add $8, %rsp
	cmp $9, %rax
	jne 5f
	# The data-to-data pointer made in another section.
	mov pointers(%rip), %rcx
	movabs $0x1122334455667788, %rdx
	cmp %rdx, (%rcx)
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
	.size main, .-main

	.type helper, @function
helper:
	ret
	.size helper, .-helper

	.section .rodata
	.align 8
table:
	.quad 0, 0, 0x1122334455667788

	.data
	.align 8
pointers:
	.quad table+16
	.quad table-8
	.quad helper
	.quad missing
	.quad labs

	.weak missing
	.section .note.GNU-stack,"",@progbits
