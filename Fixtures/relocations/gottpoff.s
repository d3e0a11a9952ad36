# expect: 0
# R_X86_64_GOTTPOFF: GOT + G + A - P to a slot holding T, the variable's offset from the
# thread pointer, signed 32 bits (initial-exec): added to %fs:0, and as a %fs-relative index.
	.text
	.globl main
	.type main, @function
main:
	mov tv@gottpoff(%rip), %rax
	add %fs:0, %rax
	cmpq $0x11223344, (%rax)
	jne 1f
	mov %fs:0, %rcx
	lea tv@tpoff(%rcx), %rcx
	cmp %rcx, %rax
	jne 2f
	mov tz@gottpoff(%rip), %rax
	cmpq $0, %fs:(%rax)
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
