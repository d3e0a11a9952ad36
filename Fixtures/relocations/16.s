# expect: 0
# R_X86_64_16: S + A, 16 bits, signed or unsigned. Module addresses never fit, so the values
# come from a weak undefined symbol (0) and symbol-less relocations: an instruction immediate,
# the largest unsigned value, and a negative one.
	.text
	.globl main
	.type main, @function
main:
	movw $missing+0x4321, %ax
	cmp $0x4321, %ax
	jne 1f
	cmpw $0x1234, fields(%rip)
	jne 2f
	cmpw $0xffff, fields+2(%rip)
	jne 3f
	cmpw $0xfff8, fields+4(%rip)
	jne 4f
	cmpw $0x8000, fields+6(%rip)
	jne 5f
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
5:	mov $5, %eax
	ret
	.size main, .-main

	.data
	.align 8
fields:
	.reloc ., R_X86_64_16, missing+0x1234
	.word 0
	.reloc ., R_X86_64_16, 0xffff
	.word 0
	.reloc ., R_X86_64_16, -8
	.word 0
	.reloc ., R_X86_64_16, missing-0x8000
	.word 0

	.weak missing
	.section .note.GNU-stack,"",@progbits
