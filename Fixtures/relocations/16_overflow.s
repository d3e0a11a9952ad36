# expect-error: 16_overflow.o:main+0x2 (.text+0x2): R_X86_64_16 against 'missing': value 0x10000 does not fit its 16-bit field
# expect-error: 16_overflow.o:fields+0x4 (.data+0x4): R_X86_64_16 against 'missing': value -0x8001 does not fit its 16-bit field
# R_X86_64_16: S + A must fit 16 bits, signed or unsigned: 0x10000 and -0x8001 do not.
	.text
	.globl main
	.type main, @function
main:
	movw $missing + 0x10000, %ax
	xor %eax, %eax
	ret
	.size main, .-main

	.data
	.globl fields
	.type fields, @object
fields:
	.word missing + 0xffff
	.word missing - 0x8000
	.word missing - 0x8001
	.size fields, .-fields

	.weak missing
	.section .note.GNU-stack,"",@progbits
