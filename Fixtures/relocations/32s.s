# expect: 0
# R_X86_64_32S: S + A, signed 32 bits (the module is mapped below 2 GiB). Absolute addressing
# (`mov counter, %eax`, an indexed table), a sign-extended immediate, a host function's address
# (a stub below 2 GiB), and negative values through a symbol-less relocation and a weak
# undefined symbol.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	cmpl $7, counter
	jne 1f
	mov $2, %ecx
	cmpl $9, table(,%rcx,4)
	jne 2f
	movq $counter+4, %rax
	lea counter+4(%rip), %rcx
	cmp %rcx, %rax
	jne 3f
	movq $labs, %rax
	mov $-23, %rdi
	call *%rax
	cmp $23, %rax
	jne 4f
	movslq minus16(%rip), %rax
	cmp $-16, %rax
	jne 5f
	movslq bottom(%rip), %rax
	cmp $-0x80000000, %rax
	jne 6f
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
6:	mov $6, %eax
	add $8, %rsp
	ret
	.size main, .-main

	.data
	.align 8
counter:
	.long 7
table:
	.long 5, 6, 9
minus16:
	.reloc ., R_X86_64_32S, -16
	.long 0
bottom:
	.reloc ., R_X86_64_32S, missing - 0x80000000
	.long 0

	.weak missing
	.section .note.GNU-stack,"",@progbits
