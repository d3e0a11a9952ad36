# expect: 0
# R_X86_64_8: S + A, 8 bits, signed or unsigned. Module addresses never fit, so the values come
# from a weak undefined symbol (0) and symbol-less relocations: an instruction immediate, the
# largest unsigned value and the most negative one.
	.text
	.globl main
	.type main, @function
main:
	mov $missing+0x7f, %al
	cmp $0x7f, %al
	jne 1f
	cmpb $0x5a, fields(%rip)
	jne 2f
	cmpb $0xff, fields+1(%rip)
	jne 3f
	cmpb $0x80, fields+2(%rip)
	jne 4f
	xor %eax, %eax
	ret
1:	mov $1, %eax
	ret
2:	mov $2, %eax
	ret
3:	mov $3, %eax
	ret
4:	mov $4, %eax
	ret
	.size main, .-main

	.data
fields:
	.byte missing+0x5a
	.reloc ., R_X86_64_8, 0xff
	.byte 0
	.byte missing-0x80

	.weak missing
	.section .note.GNU-stack,"",@progbits
