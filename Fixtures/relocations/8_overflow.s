# expect-error: 8_overflow.o:fields+0x1 (.data+0x1): R_X86_64_8 against 'missing': value 0x100 does not fit its 8-bit field
# expect-error: 8_overflow.o:fields+0x3 (.data+0x3): R_X86_64_8 against 'missing': value -0x81 does not fit its 8-bit field
# R_X86_64_8: S + A must fit 8 bits, signed or unsigned: 0x100 and -0x81 do not.
	.text
	.globl main
	.type main, @function
main:
	xor %eax, %eax
	ret
	.size main, .-main

	.data
	.globl fields
	.type fields, @object
fields:
	.byte missing + 0xff
	.byte missing + 0x100
	.byte missing - 0x80
	.byte missing - 0x81
	.size fields, .-fields

	.weak missing
	.section .note.GNU-stack,"",@progbits
