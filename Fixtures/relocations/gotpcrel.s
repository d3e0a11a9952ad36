# expect: 0
# R_X86_64_GOTPCREL: G + GOT + A - P, signed 32 bits, never relaxed. A load through the slot
# (written with .reloc, since gas emits the relaxable types for mov), gcc's
# `cmpq $0, weak@GOTPCREL(%rip)` (addend -5) against a weak undefined symbol, a host function
# called through its slot, and GOTPCREL fields in read-only data: one slot per target.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
1:	mov 0(%rip), %rax
	.reloc 1b+3, R_X86_64_GOTPCREL, counter-4
	lea counter(%rip), %rcx
	cmp %rcx, %rax
	jne 1f
	cmpq $0, missing@GOTPCREL(%rip)
	jne 2f
	# Two fields for the same target name the same slot, and it holds the target.
	lea fields(%rip), %rcx
	movslq (%rcx), %rax
	add %rcx, %rax
	lea fields+4(%rip), %rcx
	movslq (%rcx), %rdx
	add %rcx, %rdx
	cmp %rax, %rdx
	jne 3f
	lea counter(%rip), %rcx
	cmp %rcx, (%rax)
	jne 4f
	# The third field: the slot of labs.
	lea fields+8(%rip), %rcx
	movslq (%rcx), %rax
	add %rcx, %rax
	mov $-21, %rdi
	call *(%rax)
	cmp $21, %rax
	jne 5f
	xor %eax, %eax
	add $8, %rsp
	ret
1:	mov $1, %eax
	add $8, %rsp
	ret
2:	mov $2, %eax
	add $8, %rsp
	ret
3:	mov $3, %eax
	add $8, %rsp
	ret
4:	mov $4, %eax
	add $8, %rsp
	ret
5:	mov $5, %eax
	add $8, %rsp
	ret
	.size main, .-main

	.section .rodata
	.align 4
fields:
	.long counter@GOTPCREL
	.long counter@GOTPCREL
	.long labs@GOTPCREL

	.data
	.align 8
	.globl counter
	.type counter, @object
counter:
	.quad 7
	.size counter, 8

	.weak missing
	.section .note.GNU-stack,"",@progbits
