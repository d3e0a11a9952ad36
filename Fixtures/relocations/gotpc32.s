# expect: 0
# R_X86_64_GOTPC32: GOT + A - P, signed 32 bits (lea _GLOBAL_OFFSET_TABLE_(%rip)). The base
# must be 8-aligned, agree with the GOTPC32 field in data and the large-model GOTPC64
# sequence, and be the base GOT offsets count from: GOT + G (R_X86_64_GOT64) is the slot
# GOTPCREL reaches, and that slot holds the target.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
	lea _GLOBAL_OFFSET_TABLE_(%rip), %rbx
	test $7, %bl
	jne 1f
	lea got_field(%rip), %rcx
	movslq (%rcx), %rax
	add %rcx, %rax
	cmp %rbx, %rax
	jne 2f
2:	lea 2b(%rip), %rcx
	movabs $_GLOBAL_OFFSET_TABLE_-2b, %r11
	add %r11, %rcx
	cmp %rbx, %rcx
	jne 3f
	movabs $counter@GOT, %rax
	add %rbx, %rax
	lea counter_pcrel(%rip), %rcx
	movslq (%rcx), %rdx
	add %rdx, %rcx
	cmp %rcx, %rax
	jne 4f
	lea counter(%rip), %rcx
	cmp %rcx, (%rax)
	jne 5f
	xor %eax, %eax
	pop %rbx
	ret
1:	mov $1, %eax
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

	.data
	.align 8
	.globl counter
	.type counter, @object
counter:
	.quad 7
	.size counter, 8
got_field:
	.long _GLOBAL_OFFSET_TABLE_ - .
counter_pcrel:
	.long counter@GOTPCREL

	.section .note.GNU-stack,"",@progbits
