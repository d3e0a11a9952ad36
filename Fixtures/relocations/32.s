# expect: 0
# R_X86_64_32: S + A, unsigned 32 bits (the module is mapped below 2 GiB). A zero-extended
# immediate and a field in data, both equal to the 64-bit address; a module function called
# through one; a host function's address taken as 32 bits (a stub below 4 GiB); an absolute
# value through a weak undefined symbol at the top of the range.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	mov $counter+8, %eax
	lea counter+8(%rip), %rcx
	cmp %rcx, %rax
	jne 1f
	mov field(%rip), %eax
	lea counter(%rip), %rcx
	cmp %rcx, %rax
	jne 2f
	mov $twice, %eax
	mov $21, %edi
	call *%rax
	cmp $42, %eax
	jne 3f
	mov $labs, %eax
	mov $-19, %rdi
	call *%rax
	cmp $19, %rax
	jne 4f
	cmpl $0xffffffff, top(%rip)
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

	.section .text.other,"ax",@progbits
	.type twice, @function
twice:
	lea (%rdi,%rdi), %eax
	ret
	.size twice, .-twice

	.data
	.align 8
counter:
	.quad 7
	.quad 8
field:
	.long counter
top:
	.long missing + 0xffffffff

	.weak missing
	.section .note.GNU-stack,"",@progbits
