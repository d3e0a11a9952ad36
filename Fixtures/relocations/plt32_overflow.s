# expect-error: plt32_overflow.o:far_call+0x1 (.text+0x4): R_X86_64_PLT32 against 'far_call': 'far_call' at {address} is 0x80000000 bytes away, beyond the ±2 GiB a 32-bit PC-relative reference reaches; recompile with -fPIC (or -mno-direct-extern-access) so that it is reached through the GOT
# R_X86_64_PLT32: L + A - P must fit signed 32 bits, and a module function gets no stub: a call
# whose S + A - P is 0x80000000 does not fit.
	.text
	.globl main
	.type main, @function
main:
	xor %eax, %eax
	ret
	.globl far_call
	.type far_call, @function
far_call:
	.byte 0xe8
	.reloc ., R_X86_64_PLT32, far_call + 0x80000000 + 1
	.long 0
	ret
	.size far_call, .-far_call
	.size main, far_call - main

	.section .note.GNU-stack,"",@progbits
