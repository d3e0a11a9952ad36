# expect-error: pc16_overflow.o:fields+0x2 (.data+0x2): R_X86_64_PC16 against 'fields': value 0x8000 does not fit its 16-bit field
# expect-error: pc16_overflow.o:fields+0x4 (.data+0x4): R_X86_64_PC16 against 'fields': value -0x8001 does not fit its 16-bit field
# R_X86_64_PC16: S + A - P must fit signed 16 bits: +0x8000 and -0x8001 do not (.reloc against
# the fields' own symbol, so that S - P is known).
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
	.reloc ., R_X86_64_PC16, fields + 0x7fff
	.word 0
	.reloc ., R_X86_64_PC16, fields + 0x8000 + 2
	.word 0
	.reloc ., R_X86_64_PC16, fields - 0x8001 + 4
	.word 0
	.size fields, .-fields

	.section .note.GNU-stack,"",@progbits
