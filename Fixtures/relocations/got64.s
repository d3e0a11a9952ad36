# expect: 0
# R_X86_64_GOT64: G + A, 64 bits (the large code model's GOT offset). Slots of module data, a
# module function, a host function and a weak undefined symbol; a GOT64 field in data; the
# slot GOT64 names is the one GOTPCREL names.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
	lea _GLOBAL_OFFSET_TABLE_(%rip), %rbx
	movabs $counter@GOT, %rax
	mov (%rbx,%rax), %rax
	lea counter(%rip), %rcx
	cmp %rcx, %rax
	jne 1f
	movabs $helper@GOT, %rax
	mov (%rbx,%rax), %rax
	lea helper(%rip), %rcx
	cmp %rcx, %rax
	jne 2f
	movabs $missing@GOT, %rax
	cmpq $0, (%rbx,%rax)
	jne 3f
	# The GOT64 field in data, and GOT + G == the GOTPCREL slot.
	mov counter_slot(%rip), %rax
	add %rbx, %rax
	lea counter_pcrel(%rip), %rcx
	movslq (%rcx), %rdx
	add %rdx, %rcx
	cmp %rcx, %rax
	jne 4f
	# A host function called through its slot.
	movabs $labs@GOT, %rax
	mov $-3, %rdi
	call *(%rbx,%rax)
	cmp $3, %rax
	jne 5f
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
	.size main, .-main

	.globl helper
	.type helper, @function
helper:
	ret
	.size helper, .-helper

	.data
	.align 8
	.globl counter
	.type counter, @object
counter:
	.quad 7
	.size counter, 8
counter_slot:
	.quad counter@GOT
counter_pcrel:
	.long counter@GOTPCREL

	.weak missing
	.section .note.GNU-stack,"",@progbits
