# expect-error: size32_overflow.o:sizes+0x4 (.data+0xc): R_X86_64_SIZE32 against 'table': value 0x100000000 does not fit its 32-bit field
# expect-error: size32_overflow.o:sizes+0x8 (.data+0x10): R_X86_64_SIZE32 against 'missing': value -0x1 does not fit its 32-bit field
# R_X86_64_SIZE32: Z + A must fit unsigned 32 bits: 8 + 0xffffffff and 0 - 1 do not.
	.text
	.globl main
	.type main, @function
main:
	xor %eax, %eax
	ret
	.size main, .-main

	.data
	.globl table
	.type table, @object
table:
	.quad 0
	.size table, 8
	.globl sizes
	.type sizes, @object
sizes:
	.long table@SIZE + 0xfffffff7
	.long table@SIZE + 0xfffffff8
	.long missing@SIZE - 1
	.size sizes, .-sizes

	.weak missing
	.section .note.GNU-stack,"",@progbits
