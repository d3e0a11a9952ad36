# expect: 0
# R_X86_64_TLSLD: GOT + G + A - P to the module's pair {module, 0}, signed 32 bits (local-
# dynamic): __tls_get_addr of the pair is the module's TLS block, and the variables are at their
# DTPOFF32 offsets in it; both agree with local-exec's addresses.
	.text
	.globl main
	.type main, @function
main:
	push %r12
	lea tv@tlsld(%rip), %rdi
	call __tls_get_addr@PLT
	mov %rax, %r12
	lea tv@dtpoff(%rax), %rax
	cmpq $0x11223344, (%rax)
	jne 1f
	mov %fs:0, %rcx
	lea tv@tpoff(%rcx), %rcx
	cmp %rcx, %rax
	jne 2f
	lea tz@dtpoff(%r12), %rax
	mov %fs:0, %rcx
	lea tz@tpoff(%rcx), %rcx
	cmp %rcx, %rax
	jne 3f
	xor %eax, %eax
	pop %r12
	ret
1:	mov $1, %eax
	pop %r12
	ret
2:	mov $2, %eax
	pop %r12
	ret
3:	mov $3, %eax
	pop %r12
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
