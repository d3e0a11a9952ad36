# expect: 0
# R_X86_64_GOTPC32_TLSDESC: GOT + G + A - P to the variable's TLS descriptor {resolver,
# argument}, signed 32 bits (-mtls-dialect=gnu2): the resolver called through it returns the
# variable's offset from the thread pointer, as local-exec's.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	lea tv@tlsdesc(%rip), %rax
	call *tv@tlscall(%rax)
	add %fs:0, %rax
	cmpq $0x11223344, (%rax)
	jne 1f
	mov %fs:0, %rcx
	lea tv@tpoff(%rcx), %rcx
	cmp %rcx, %rax
	jne 2f
	xor %eax, %eax
	add $8, %rsp
	ret
1:	mov $1, %eax
	add $8, %rsp
	ret
2:	mov $2, %eax
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
