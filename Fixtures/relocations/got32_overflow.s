# expect-error: got32_overflow.o:fields+0x4 (.data+0xc): R_X86_64_GOT32 against 'counter': value 0x80000000 does not fit its 32-bit field
# expect-error: got32_overflow.o:fields+0xc (.data+0x14): R_X86_64_GOT32 against 'counter': value -0x80000001 does not fit its 32-bit field
# R_X86_64_GOT32: G + A must fit signed 32 bits. The only GOT slot has G = 0, so the addends
# 0x80000000 and -0x80000001 do not fit.
	.text
	.globl main
	.type main, @function
main:
	xor %eax, %eax
	ret
	.size main, .-main

	.data
	.globl counter
	.type counter, @object
counter:
	.quad 0
	.size counter, 8
	.globl fields
	.type fields, @object
fields:
	.long counter@GOT + 0x7fffffff
	.reloc ., R_X86_64_GOT32, counter + 0x80000000
	.long 0
	.long counter@GOT - 0x80000000
	.reloc ., R_X86_64_GOT32, counter - 0x80000001
	.long 0
	.size fields, .-fields

	.section .note.GNU-stack,"",@progbits
