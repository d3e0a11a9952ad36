# expect: 0
# R_X86_64_TPOFF32: T + A, the variable's offset from the thread pointer (negative: x86-64's
# TLS variant II), signed 32 bits. Local-exec: a %fs-relative load and store, an address from
# %fs:0, an addend into the variable, and a .tbss variable that starts at zero.
	.text
	.globl main
	.type main, @function
main:
	mov %fs:0, %rcx
	lea tv@tpoff(%rcx), %rax
	cmpq $0x11223344, (%rax)
	jne 1f
	movq %fs:tv@tpoff, %rdx
	cmp $0x11223344, %rdx
	jne 2f
	cmpq $0, %fs:tz@tpoff
	jne 3f
	movq $5, %fs:tz@tpoff
	lea tz@tpoff(%rcx), %rax
	cmpq $5, (%rax)
	jne 4f
	movq %fs:tv@tpoff+8, %rdx
	cmp $0x55667788, %rdx
	jne 5f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
3:	mov $3, %eax
	ret
4:	mov $4, %eax
	ret
5:	mov $5, %eax
	ret
	.size main, .-main

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
