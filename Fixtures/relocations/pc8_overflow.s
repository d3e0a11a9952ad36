# expect-error: pc8_overflow.o:fields+0x1 (.data+0x1): R_X86_64_PC8 against 'fields': value 0x80 does not fit its 8-bit field
# expect-error: pc8_overflow.o:fields+0x2 (.data+0x2): R_X86_64_PC8 against 'fields': value -0x81 does not fit its 8-bit field
# R_X86_64_PC8: S + A - P must fit signed 8 bits: +0x80 and -0x81 do not (.reloc against the
# fields' own symbol, so that S - P is known).
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
	.reloc ., R_X86_64_PC8, fields + 0x7f
	.byte 0
	.reloc ., R_X86_64_PC8, fields + 0x80 + 1
	.byte 0
	.reloc ., R_X86_64_PC8, fields - 0x81 + 2
	.byte 0
	.size fields, .-fields

	.section .note.GNU-stack,"",@progbits
