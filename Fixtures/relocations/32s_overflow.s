# expect-error: 32s_overflow.o:main+0x3 (.text+0x3): R_X86_64_32S against 'missing': value 0x80000000 does not fit a signed 32-bit field; the object was compiled with -fno-pic or -mcmodel=kernel: recompile with -fPIC
# expect-error: 32s_overflow.o:fields+0x4 (.data+0x4): R_X86_64_32S against 'missing': value 0xffffffff7fffffff does not fit a signed 32-bit field; the object was compiled with -fno-pic or -mcmodel=kernel: recompile with -fPIC
# R_X86_64_32S: S + A must fit signed 32 bits: 0x80000000 and -0x80000001 do not.
	.text
	.globl main
	.type main, @function
main:
	movq $missing + 0x80000000, %rax
	xor %eax, %eax
	ret
	.size main, .-main

	.data
	.globl fields
	.type fields, @object
fields:
	.reloc ., R_X86_64_32S, missing + 0x7fffffff
	.long 0
	.reloc ., R_X86_64_32S, missing - 0x80000001
	.long 0
	.size fields, .-fields

	.weak missing
	.section .note.GNU-stack,"",@progbits
