# expect: 0
# R_X86_64_PC32: S + A - P, signed 32 bits. RIP-relative loads and stores into another
# section, addends other than -4 (an immediate after the field), a 32-bit offset table,
# host data reached directly (the module must be placed within 2 GiB of libc), and a direct
# call to a host function written as PC32 (which may go through a stub).
	.text
	.globl main
	.type main, @function
main:
	# Load and store through PC32 (addend -4).
	cmpl $41, counter(%rip)
	jne 1f
	addl $1, counter(%rip)          # addend -5: an imm8 follows the field
	cmpl $42, counter(%rip)
	jne 2f
	# An offset table in .rodata: entry + *entry == target.
	lea offsets(%rip), %rcx
	movslq (%rcx), %rax
	add %rcx, %rax
	lea target(%rip), %rdx
	cmp %rdx, %rax
	jne 3f
	lea offsets+4(%rip), %rcx
	movslq (%rcx), %rax
	add %rcx, %rax
	lea target+100(%rip), %rdx
	cmp %rdx, %rax
	jne 4f
	# Host data by PC32 agrees with its absolute address.
	lea environ(%rip), %rax
	cmp environ_address(%rip), %rax
	jne 5f
	# A direct call written as PC32 to a host function.
	mov $-17, %rdi
	sub $8, %rsp
	.byte 0xe8
	.reloc ., R_X86_64_PC32, labs-4
	.long 0
	add $8, %rsp
	cmp $17, %rax
	jne 6f
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
5:	mov $5, %eax
	ret
6:	mov $6, %eax
	ret
	.size main, .-main

	.section .rodata
	.align 4
offsets:
	.long target - .
	.long target + 100 - .

	.data
	.align 8
counter:
	.long 41
	.long 0
environ_address:
	.quad environ
	.bss
target:
	.zero 128

	.section .note.GNU-stack,"",@progbits
