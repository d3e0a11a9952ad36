# expect: 0
# R_X86_64_PLT32: L + A - P, signed 32 bits, L = S when S is in reach. Calls and a tail jump
# to a module function in another section, a call to a host function (through a stub when
# libc is out of reach), and a PLT32 offset in read-only data.
	.text
	.globl main
	.type main, @function
main:
	sub $8, %rsp
	mov $20, %edi
	call twice                       # PLT32 against a global in another section
	cmp $40, %eax
	jne 1f
	mov $5, %edi
	call twice@PLT
	cmp $10, %eax
	jne 2f
	mov $-33, %rdi
	call labs@PLT                    # host function
	cmp $33, %rax
	jne 3f
	mov $7, %edi
	call tail
	cmp $14, %eax
	jne 4f
	# A PLT32 field in .rodata: entry + *entry reaches twice (no stub: it is in the module).
	lea offset(%rip), %rcx
	movslq (%rcx), %rax
	add %rcx, %rax
	lea twice(%rip), %rdx
	cmp %rdx, %rax
	jne 5f
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
	.size main, .-main

	.type tail, @function
tail:
	jmp twice                        # PLT32 on a jmp
	.size tail, .-tail

	.section .text.other,"ax",@progbits
	.globl twice
	.type twice, @function
twice:
	lea (%rdi,%rdi), %eax
	ret
	.size twice, .-twice

	.section .rodata
	.align 4
offset:
	.reloc ., R_X86_64_PLT32, twice
	.long 0

	.section .note.GNU-stack,"",@progbits
