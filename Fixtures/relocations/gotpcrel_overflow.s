# expect-error: gotpcrel_overflow.o:main+0x6 (.text+0x6): R_X86_64_GOTPCREL against 'counter': value {address} does not fit its 32-bit field
# R_X86_64_GOTPCREL: G + GOT + A - P must fit signed 32 bits; an addend of 2⁶² puts it out of reach
# wherever the module and its GOT are.
	.text
	.globl main
	.type main, @function
main:
	xor %eax, %eax
	ret
1:	mov 0(%rip), %rax
	.reloc 1b+3, R_X86_64_GOTPCREL, counter + 0x4000000000000000
	ret
	.size main, .-main

	.data
	.globl counter
	.type counter, @object
counter:
	.quad 0
	.size counter, 8

	.section .note.GNU-stack,"",@progbits
