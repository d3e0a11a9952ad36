# expect: 0
# R_X86_64_GOTPCREL64: G + GOT + A - P, 64 bits. In code (a movabs immediate made with .reloc,
# addend +2 so that the value is relative to the instruction) and as a field in data; both reach
# the target's slot, which holds the target.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
1:	movabs $0, %rax
	.reloc 1b+2, R_X86_64_GOTPCREL64, counter+2
	lea 1b(%rip), %rcx
	add %rcx, %rax
	lea counter(%rip), %rcx
	cmp %rcx, (%rax)
	jne 1f
	lea field(%rip), %rcx
	mov (%rcx), %rdx
	add %rcx, %rdx
	cmp %rax, %rdx
	jne 2f
	lea labs_field(%rip), %rcx
	mov (%rcx), %rdx
	add %rcx, %rdx
	mov $-4, %rdi
	call *(%rdx)
	cmp $4, %rax
	jne 3f
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
	.size main, .-main

	.data
	.align 8
	.globl counter
	.type counter, @object
counter:
	.quad 7
	.size counter, 8
field:
	.quad counter@GOTPCREL
labs_field:
	.quad labs@GOTPCREL

	.section .note.GNU-stack,"",@progbits
