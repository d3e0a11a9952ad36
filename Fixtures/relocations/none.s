# expect: 0
# R_X86_64_NONE: nothing is computed; the field keeps the assembler's bytes.
	.text
	.globl main
	.type main, @function
main:
	cmpl $0x12345678, field(%rip)
	jne 1f
	cmpl $0x9abcdef0, field+4(%rip)
	jne 2f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
	.size main, .-main

	.data
	.align 8
field:
	.reloc ., R_X86_64_NONE, target
	.reloc .+4, R_X86_64_NONE, 0
	.long 0x12345678, 0x9abcdef0
target:
	.quad 0

	.section .note.GNU-stack,"",@progbits
