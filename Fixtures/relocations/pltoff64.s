# expect: 0
# R_X86_64_PLTOFF64: L + A - GOT, 64 bits, L the symbol's PLT stub (or S when there is none).
# GOT + field is called for a module function and a host function; for the module function it
# must be the function itself. A PLTOFF64 field in data.
	.text
	.globl main
	.type main, @function
main:
	push %rbx
	lea _GLOBAL_OFFSET_TABLE_(%rip), %rbx
	movabs $triple@PLTOFF, %rax
	add %rbx, %rax
	lea triple(%rip), %rcx
	cmp %rcx, %rax
	jne 1f
	mov $9, %edi
	call *%rax
	cmp $27, %eax
	jne 2f
	movabs $labs@PLTOFF, %rax
	add %rbx, %rax
	mov $-12, %rdi
	call *%rax
	cmp $12, %rax
	jne 3f
	mov labs_offset(%rip), %rax
	add %rbx, %rax
	mov $-13, %rdi
	call *%rax
	cmp $13, %rax
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
labs_offset:
	.quad labs@PLTOFF

	.section .note.GNU-stack,"",@progbits
