# expect: 0
# R_X86_64_GOT32: G + A, signed 32 bits: the offset of the symbol's GOT slot from the GOT
# base, used as a displacement from a register holding _GLOBAL_OFFSET_TABLE_. Slots of module
# data, a module function, a host function and a weak undefined symbol (0); a GOT32 field in
# data; one slot per target.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
	lea _GLOBAL_OFFSET_TABLE_(%rip), %rbx
	mov counter@GOT(%rbx), %rax
	lea counter(%rip), %rcx
	cmp %rcx, %rax
	jne 1f
	mov helper@GOT(%rbx), %rax
	lea helper(%rip), %rcx
	cmp %rcx, %rax
	jne 2f
	mov missing@GOT(%rbx), %rax
	test %rax, %rax
	jne 3f
	# The same slot again, through a GOT32 field in data.
	movslq counter_slot(%rip), %rax
	mov (%rbx,%rax), %rax
	lea counter(%rip), %rcx
	cmp %rcx, %rax
	jne 4f
	movslq counter_slot(%rip), %rax
	cmp $counter@GOT, %rax
	jne 5f
	# A host function called through its slot.
	mov $-3, %rdi
	call *labs@GOT(%rbx)
	cmp $3, %rax
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
	.long counter@GOT

	.weak missing
	.section .note.GNU-stack,"",@progbits
