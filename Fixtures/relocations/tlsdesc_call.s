# expect: 0
# R_X86_64_TLSDESC_CALL: marks the call through a TLS descriptor; nothing is written. The
# resolver changes no register but %rax (the psABI's contract for TLS descriptors).
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	mov $0x1001, %rdi
	mov $0x1002, %rsi
	mov $0x1003, %rdx
	mov $0x1004, %rcx
	mov $0x1005, %r8
	mov $0x1006, %r9
	mov $0x1007, %r10
	mov $0x1008, %r11
	lea tv@tlsdesc(%rip), %rax
	call *tv@tlscall(%rax)
	add %fs:0, %rax
	cmp $0x1001, %rdi
	jne 1f
	cmp $0x1002, %rsi
	jne 1f
	cmp $0x1003, %rdx
	jne 1f
	cmp $0x1004, %rcx
	jne 1f
	cmp $0x1005, %r8
	jne 1f
	cmp $0x1006, %r9
	jne 1f
	cmp $0x1007, %r10
	jne 1f
	cmp $0x1008, %r11
	jne 1f
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
