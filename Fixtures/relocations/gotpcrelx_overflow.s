# expect-error: gotpcrelx_overflow.o:main+0x5 (.text+0x5): R_X86_64_GOTPCRELX against 'counter': value {address} does not fit its 32-bit field
# R_X86_64_GOTPCRELX: G + GOT + A - P must fit signed 32 bits; an addend of 2⁶² puts it out of reach
# wherever the module and its GOT are.
	.text
	.globl main
	.type main, @function
main:
	xor %eax, %eax
	ret
1:	call *0(%rip)
	.reloc 1b+2, R_X86_64_GOTPCRELX, counter + 0x4000000000000000
	ret
	.size main, .-main

	.data
	.globl counter
	.type counter, @object
counter:
	.quad 0
	.size counter, 8

	.section .note.GNU-stack,"",@progbits
