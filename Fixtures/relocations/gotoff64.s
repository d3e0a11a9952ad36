# expect: 0
# R_X86_64_GOTOFF64: S + A - GOT, 64 bits. The GOT base comes from the large-model sequence
# (R_X86_64_GOTPC64); GOT + field must be the symbol's address for module data (with positive
# and negative addends), a module function, a host function, and a GOTOFF64 field in data.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
1:	lea 1b(%rip), %rbx
	movabs $_GLOBAL_OFFSET_TABLE_-1b, %r11
	add %r11, %rbx
	movabs $counter@GOTOFF, %rax
	add %rbx, %rax
	lea counter(%rip), %rcx
	cmp %rcx, %rax
	jne 1f
	movabs $counter@GOTOFF+24, %rax
	add %rbx, %rax
	lea counter+24(%rip), %rcx
	cmp %rcx, %rax
	jne 2f
	movabs $counter@GOTOFF-4096, %rax
	add %rbx, %rax
	lea counter-4096(%rip), %rcx
	cmp %rcx, %rax
	jne 3f
	movabs $triple@GOTOFF, %rax
	add %rbx, %rax
	mov $5, %edi
	call *%rax
	cmp $15, %eax
	jne 4f
	movabs $labs@GOTOFF, %rax
	add %rbx, %rax
	mov $-6, %rdi
	call *%rax
	cmp $6, %rax
	jne 5f
	mov counter_offset(%rip), %rax
	cmpq $7, (%rbx,%rax)
	jne 6f
	xor %eax, %eax
	pop %rbx
	ret
1:	mov $1, %eax
	pop %rbx
	ret
2:	mov $2, %eax
	pop %rbx
	ret
3:	mov $3, %eax
	pop %rbx
	ret
4:	mov $4, %eax
	pop %rbx
	ret
5:	mov $5, %eax
	pop %rbx
	ret
6:	mov $6, %eax
	pop %rbx
	ret
	.size main, .-main

	.type triple, @function
triple:
	lea (%rdi,%rdi,2), %eax
	ret
	.size triple, .-triple

	.data
	.align 8
counter:
	.quad 7
	.zero 24
counter_offset:
	.quad counter@GOTOFF

	.section .note.GNU-stack,"",@progbits
