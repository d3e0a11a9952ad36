# expect: 0
# R_X86_64_GOTPC64: GOT + A - P, 64 bits: the large code model's
# `lea 1b(%rip); movabs $_GLOBAL_OFFSET_TABLE_-1b` sequence, and a GOTPC64 field in data. Both
# must agree with lea _GLOBAL_OFFSET_TABLE_(%rip) (R_X86_64_GOTPC32), and GOT + G
# (R_X86_64_GOT64) must be a slot holding the target.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
1:	lea 1b(%rip), %rbx
	movabs $_GLOBAL_OFFSET_TABLE_-1b, %r11
	add %r11, %rbx
	lea _GLOBAL_OFFSET_TABLE_(%rip), %rcx
	cmp %rcx, %rbx
	jne 1f
	lea got_field(%rip), %rcx
	mov (%rcx), %rax
	add %rcx, %rax
	cmp %rbx, %rax
	jne 2f
	movabs $counter@GOT, %rax
	lea counter(%rip), %rcx
	cmp %rcx, (%rbx,%rax)
	jne 3f
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
	.size main, .-main

	.data
	.align 8
counter:
	.quad 7
got_field:
	.quad _GLOBAL_OFFSET_TABLE_ - .

	.section .note.GNU-stack,"",@progbits
