# expect: 0
# R_X86_64_REX_GOTPCRELX: G + GOT + A - P, signed 32 bits, never relaxed: 64-bit loads into
# rax and r12 (REX.R), an add (binop) through the slot, and clang's load of a weak undefined
# symbol, which must stay a load of 0. The opcode bytes are unchanged (48 8b, 4c 8b, 48 03).
	.text
	.globl main
	.type main, @function
main:
	push %r12
mov_site:
	mov counter@GOTPCREL(%rip), %rax
	lea counter(%rip), %rcx
	cmp %rcx, %rax
	jne 1f
r12_site:
	mov helper@GOTPCREL(%rip), %r12
	lea helper(%rip), %rcx
	cmp %rcx, %r12
	jne 2f
	mov $16, %rax
add_site:
	add counter@GOTPCREL(%rip), %rax
	lea counter+16(%rip), %rcx
	cmp %rcx, %rax
	jne 3f
	mov missing@GOTPCREL(%rip), %rax
	test %rax, %rax
	jne 4f
	cmpw $0x8b48, mov_site(%rip)
	jne 5f
	cmpw $0x8b4c, r12_site(%rip)
	jne 6f
	cmpw $0x0348, add_site(%rip)
	jne 7f
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
4:	mov $4, %eax
	pop %r12
	ret
5:	mov $5, %eax
	pop %r12
	ret
6:	mov $6, %eax
	pop %r12
	ret
7:	mov $7, %eax
	pop %r12
	ret
	.size main, .-main

	.globl helper
	.type helper, @function
helper:
	ret
	.size helper, .-helper

	.data
	.align 8
	.globl counter
	.type counter, @object
counter:
	.quad 7
	.size counter, 8

	.weak missing
	.section .note.GNU-stack,"",@progbits
