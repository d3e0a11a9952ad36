# expect: 0
# R_X86_64_GOTPCRELX: G + GOT + A - P, signed 32 bits, never relaxed: `call *f@GOTPCREL(%rip)`,
# `jmp *f@GOTPCREL(%rip)` and a 32-bit `mov x@GOTPCREL(%rip), %eax` load through the slot, and
# their opcode bytes are unchanged (ff 15, ff 25, 8b).
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	mov $-11, %rdi
call_site:
	call *labs@GOTPCREL(%rip)
	cmp $11, %rax
	jne 1f
	mov $4, %edi
	call tail
	cmp $8, %eax
	jne 2f
mov_site:
	mov counter@GOTPCREL(%rip), %eax
	lea counter(%rip), %rcx
	cmp %ecx, %eax
	jne 3f
	cmpw $0x15ff, call_site(%rip)
	jne 4f
	cmpw $0x25ff, jmp_site(%rip)
	jne 5f
	cmpb $0x8b, mov_site(%rip)
	jne 6f
	xor %eax, %eax
	add $8, %rsp
	ret
1:	mov $1, %eax
	add $8, %rsp
	ret
2:	mov $2, %eax
	add $8, %rsp
	ret
3:	mov $3, %eax
	add $8, %rsp
	ret
4:	mov $4, %eax
	add $8, %rsp
	ret
5:	mov $5, %eax
	add $8, %rsp
	ret
6:	mov $6, %eax
	add $8, %rsp
	ret
	.size main, .-main

	.type tail, @function
tail:
jmp_site:
	jmp *twice@GOTPCREL(%rip)
	.size tail, .-tail

	.globl twice
	.type twice, @function
twice:
	lea (%rdi,%rdi), %eax
	ret
	.size twice, .-twice

	.data
	.align 8
	.globl counter
	.type counter, @object
counter:
	.quad 7
	.size counter, 8

	.section .note.GNU-stack,"",@progbits
