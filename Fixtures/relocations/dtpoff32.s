# expect: 0
# R_X86_64_DTPOFF32: D + A, the variable's offset in its module's TLS block, signed 32 bits
# (after a local-dynamic TLSLD call gives the block): with an addend, and for .tdata and .tbss.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	lea tv@tlsld(%rip), %rdi
	call __tls_get_addr@PLT
	mov 8+tv@dtpoff(%rax), %rdx
	cmp $0x55667788, %rdx
	jne 1f
	lea tv@dtpoff(%rax), %rax
	cmpq $0x11223344, (%rax)
	jne 2f
	mov %fs:0, %rcx
	lea tv@tpoff(%rcx), %rcx
	cmp %rcx, %rax
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
