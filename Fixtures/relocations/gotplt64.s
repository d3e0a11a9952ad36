# expect: 0
# R_X86_64_GOTPLT64: G + A, 64 bits: the offset of the symbol's GOT slot, which serves as its
# PLT slot (a function called through GOT + G). A module function, a host function, a weak
# undefined function (slot 0), and a GOTPLT64 field in data.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
	lea _GLOBAL_OFFSET_TABLE_(%rip), %rbx
	movabs $triple@GOTPLT, %rax
	mov $14, %edi
	call *(%rbx,%rax)
	cmp $42, %eax
	jne 1f
	movabs $labs@GOTPLT, %rax
	mov $-8, %rdi
	call *(%rbx,%rax)
	cmp $8, %rax
	jne 2f
	movabs $maybe@GOTPLT, %rax
	cmpq $0, (%rbx,%rax)
	jne 3f
	mov triple_slot(%rip), %rax
	mov (%rbx,%rax), %rax
	lea triple(%rip), %rcx
	cmp %rcx, %rax
	jne 4f
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
	.size main, .-main

	.globl triple
	.type triple, @function
triple:
	lea (%rdi,%rdi,2), %eax
	ret
	.size triple, .-triple

	.data
	.align 8
triple_slot:
	.quad triple@GOTPLT

	.weak maybe
	.type maybe, @function
	.section .note.GNU-stack,"",@progbits
