# expect: 0
# R_X86_64_PC8: S + A - P, signed 8 bits. Fields in data reaching another section, +0x7f and
# -0x80 exactly (.reloc against the field's own section), a short jmp whose displacement is a
# .reloc, and jrcxz and loop into the next text section and back.
	.text
	.globl main
	.type main, @function
main:
	lea forward(%rip), %rcx
	movsbq (%rcx), %rax
	add %rcx, %rax
	lea target(%rip), %rdx
	cmp %rdx, %rax
	jne 1f
	cmpb $0x7f, most(%rip)
	jne 2f
	cmpb $-0x80, least(%rip)
	jne 3f
	.byte 0xeb                       # jmp rel8
	.reloc ., R_X86_64_PC8, branches - 1
	.byte 0
	mov $4, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
3:	mov $3, %eax
	ret
branches:
	xor %ecx, %ecx
	jrcxz over                       # taken: rcx is 0
	mov $5, %eax
	ret
back:
	mov $2, %ecx
	loop again                       # taken: rcx becomes 1
	mov $6, %eax
	ret
finish:
	xor %eax, %eax
	ret
	.size main, .-main

	.section .text.over,"ax",@progbits
over:
	jmp back
again:
	jmp finish

	.data
forward:
	.byte target - .
most:
	.reloc ., R_X86_64_PC8, most + 0x7f
	.byte 0
least:
	.reloc ., R_X86_64_PC8, least - 0x80
	.byte 0
	.section .data.after,"aw",@progbits
target:
	.quad 0

	.section .note.GNU-stack,"",@progbits
