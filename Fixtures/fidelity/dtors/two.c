#include <stdio.h>
#define SAY(name) __attribute__((used)) static void name(void) { printf(#name "\n"); }
SAY(ctor_b) SAY(dtor_b) SAY(fini_b) SAY(init_b) SAY(ctor_b200) SAY(dtor_b200)
__asm__(".section .ctors,\"aw\"\n.p2align 3\n.quad ctor_b\n.previous");
__asm__(".section .dtors,\"aw\"\n.p2align 3\n.quad dtor_b\n.previous");
__asm__(".section .fini_array,\"aw\"\n.p2align 3\n.quad fini_b\n.previous");
__asm__(".section .init_array,\"aw\"\n.p2align 3\n.quad init_b\n.previous");
__asm__(".section .ctors.65335,\"aw\"\n.p2align 3\n.quad ctor_b200\n.previous");
__asm__(".section .dtors.65335,\"aw\"\n.p2align 3\n.quad dtor_b200\n.previous");
__attribute__((constructor(200))) static void prio200(void) { printf("prio200\n"); }
__attribute__((destructor(200))) static void dprio200(void) { printf("dprio200\n"); }
void two_hello(void) { printf("two\n"); }
