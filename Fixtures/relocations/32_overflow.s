# expect-error: 32_overflow.o:main+0x1 (.text+0x1): R_X86_64_32 against 'missing': value 0x100000000 does not fit an unsigned 32-bit field; the object was compiled with -fno-pic or -mcmodel=kernel: recompile with -fPIC
# expect-error: 32_overflow.o:fields+0x4 (.data+0x4): R_X86_64_32 against 'missing': value 0xffffffffffffffff does not fit an unsigned 32-bit field; the object was compiled with -fno-pic or -mcmodel=kernel: recompile with -fPIC
# R_X86_64_32: S + A must fit unsigned 32 bits: 0x100000000 and -1 do not.
	.text
	.globl main
	.type main, @function
main:
	mov $missing + 0x100000000, %eax
	xor %eax, %eax
	ret
	.size main, .-main

	.data
	.globl fields
	.type fields, @object
fields:
	.long missing + 0xffffffff
	.long missing - 1
	.size fields, .-fields

	.weak missing
	.section .note.GNU-stack,"",@progbits
