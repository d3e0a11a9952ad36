# expect: 0
# R_X86_64_DTPOFF64: D + A, the variable's offset in its module's TLS block, 64 bits (a word in
# data, as DWARF's location of a thread-local variable has it): the words of two variables
# differ by their distance, and an addend adds to the word.
	.text
	.globl main
	.type main, @function
main:
	# The words' differences are the variables' distances (ld's static link turns a local-
	# dynamic call into the thread pointer, so the block's start is not compared here).
	mov offsets+8(%rip), %rax
	sub offsets(%rip), %rax
	mov %fs:0, %rcx
	lea tz@tpoff(%rcx), %rdx
	lea tv@tpoff(%rcx), %rcx
	sub %rcx, %rdx
	cmp %rdx, %rax
	jne 1f
	mov offsets+16(%rip), %rax
	sub offsets(%rip), %rax
	cmp $8, %rax
	jne 2f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
	.size main, .-main

	.data
	.align 8
offsets:
	.quad tv@dtpoff
	.quad tz@dtpoff
	.quad tv@dtpoff+8

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
