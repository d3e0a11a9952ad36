# expect-error: pc32_overflow.o:main+0x2 (.text+0x2): R_X86_64_PC32 against 'far_data': 'far_data' at 0xffff800000000000 is {address} bytes away, beyond the ±2 GiB a 32-bit PC-relative reference reaches; recompile with -fPIC (or -mno-direct-extern-access) so that it is reached through the GOT
# expect-error: pc32_overflow.o:fields+0x4 (.data+0x4): R_X86_64_PC32 against 'fields': 'fields' at {address} is 0x80000000 bytes away, beyond the ±2 GiB a 32-bit PC-relative reference reaches; recompile with -fPIC (or -mno-direct-extern-access) so that it is reached through the GOT
# expect-error: pc32_overflow.o:fields+0x8 (.data+0x8): R_X86_64_PC32 against 'fields': 'fields' at {address} is 0x80000001 bytes away, beyond the ±2 GiB a 32-bit PC-relative reference reaches; recompile with -fPIC (or -mno-direct-extern-access) so that it is reached through the GOT
# R_X86_64_PC32: S + A - P must fit signed 32 bits. A load of data no placement can reach
# ('far_data', which the tests' provider puts at 0xffff800000000000), and fields whose S + A - P
# is +0x80000000 and -0x80000001 (.reloc against the fields' own symbol).
	.text
	.globl main
	.type main, @function
main:
	mov far_data(%rip), %eax
	ret
	.size main, .-main

	.data
	.globl fields
	.type fields, @object
fields:
	.reloc ., R_X86_64_PC32, fields + 0x7fffffff
	.long 0
	.reloc ., R_X86_64_PC32, fields + 0x80000000 + 4
	.long 0
	.reloc ., R_X86_64_PC32, fields - 0x80000001 + 8
	.long 0
	.size fields, .-fields

	.section .note.GNU-stack,"",@progbits
