# expect: 0
# R_X86_64_PC16: S + A - P, signed 16 bits. Fields in data reaching another section (sign-
# extended field + field address == target), and fields with known values made with .reloc
# against the field's own section: +0x7fff and -0x8000 exactly.
	.text
	.globl main
	.type main, @function
main:
	lea forward(%rip), %rcx
	movswq (%rcx), %rax
	add %rcx, %rax
	lea target(%rip), %rdx
	cmp %rdx, %rax
	jne 1f
	lea backward(%rip), %rcx
	movswq (%rcx), %rax
	add %rcx, %rax
	lea before+2(%rip), %rdx
	cmp %rdx, %rax
	jne 2f
	cmpw $0x7fff, most(%rip)
	jne 3f
	cmpw $-0x8000, least(%rip)
	jne 4f
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
	.size main, .-main

	.section .data.before,"aw",@progbits
before:
	.quad 0
	.data
	.align 8
forward:
	.word target - .
backward:
	.word before + 2 - .
most:
	.reloc ., R_X86_64_PC16, most + 0x7fff
	.word 0
least:
	.reloc ., R_X86_64_PC16, least - 0x8000
	.word 0
	.section .data.after,"aw",@progbits
target:
	.quad 0

	.section .note.GNU-stack,"",@progbits
