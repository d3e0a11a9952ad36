# expect: 0
# R_X86_64_PC64: S + A - P, 64 bits. Fields in data reaching another section and a host
# function (field + field address == target), and a movabs immediate made with .reloc (addend
# +2, so that the value is relative to the instruction).
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	lea forward(%rip), %rcx
	mov (%rcx), %rax
	add %rcx, %rax
	lea target(%rip), %rdx
	cmp %rdx, %rax
	jne 1f
	lea backward(%rip), %rcx
	mov (%rcx), %rax
	add %rcx, %rax
	lea main+8(%rip), %rdx
	cmp %rdx, %rax
	jne 2f
1:	movabs $0, %rax
	.reloc 1b+2, R_X86_64_PC64, target+2
	lea 1b(%rip), %rcx
	add %rcx, %rax
	lea target(%rip), %rdx
	cmp %rdx, %rax
	jne 3f
	lea to_labs(%rip), %rcx
	mov (%rcx), %rax
	add %rcx, %rax
	mov $-30, %rdi
	call *%rax
	cmp $30, %rax
	jne 4f
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
	.size main, .-main

	.data
	.align 8
forward:
	.quad target - .
backward:
	.quad main + 8 - .
to_labs:
	.quad labs - .
	.bss
target:
	.quad 0

	.section .note.GNU-stack,"",@progbits
