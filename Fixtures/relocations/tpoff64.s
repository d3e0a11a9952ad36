# expect: 0
# R_X86_64_TPOFF64: T + A, the variable's offset from the thread pointer, 64 bits (a word in
# data: ld writes it for an initial-exec GOT slot of an executable). %fs:0 plus the word is the
# variable, as local-exec's address is.
	.text
	.globl main
	.type main, @function
main:
	mov offsets(%rip), %rax
	add %fs:0, %rax
	cmpq $0x11223344, (%rax)
	jne 1f
	mov %fs:0, %rcx
	lea tv@tpoff(%rcx), %rcx
	cmp %rcx, %rax
	jne 2f
	mov offsets+8(%rip), %rax
	add %fs:0, %rax
	cmpq $0x55667788, (%rax)
	jne 3f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
3:	mov $3, %eax
	ret
	.size main, .-main

	.data
	.align 8
offsets:
	.quad tv@tpoff
	.quad tv@tpoff+8

	.section .tdata,"awT",@progbits
	.align 8
	.globl tv
	.type tv, @object
tv:
	.quad 0x11223344
	.quad 0x55667788
	.size tv, 16
	.section .tbss,"awT",@nobits
	.align 8
	.type tz, @object
tz:
	.zero 8
	.size tz, 8

	.section .note.GNU-stack,"",@progbits
