# expect: 0
# R_X86_64_TLSGD: GOT + G + A - P to the variable's pair {module, offset}, signed 32 bits
# (general-dynamic), in gcc's padded sequence: __tls_get_addr of the pair is the variable, as
# local-exec's address is, for .tdata and .tbss.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	.byte 0x66
	lea tv@tlsgd(%rip), %rdi
	.value 0x6666
	rex64
	call __tls_get_addr@PLT
	cmpq $0x11223344, (%rax)
	jne 1f
	mov %fs:0, %rcx
	lea tv@tpoff(%rcx), %rcx
	cmp %rcx, %rax
	jne 2f
	.byte 0x66
	lea tz@tlsgd(%rip), %rdi
	.value 0x6666
	rex64
	call __tls_get_addr@PLT
	cmpq $0, (%rax)
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
