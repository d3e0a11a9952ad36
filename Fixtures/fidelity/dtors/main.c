#include <stdio.h>
#include <stdlib.h>
#define SAY(name) __attribute__((used)) static void name(void) { printf(#name "\n"); }
SAY(ctor_a1) SAY(ctor_a2) SAY(dtor_a1) SAY(dtor_a2) SAY(ctor_p) SAY(dtor_p)
SAY(fini_a1) SAY(fini_a2) SAY(init_a1) SAY(init_a2) SAY(preinit_a) SAY(at_ctor) SAY(at_main)
SAY(ctor_n) SAY(dtor_n)
__asm__(".section .ctors,\"aw\"\n.p2align 3\n.quad ctor_a1\n.quad ctor_a2\n.previous");
__asm__(".section .dtors,\"aw\"\n.p2align 3\n.quad dtor_a1\n.quad dtor_a2\n.previous");
__asm__(".section .ctors.65000,\"aw\"\n.p2align 3\n.quad ctor_p\n.previous");
__asm__(".section .dtors.65000,\"aw\"\n.p2align 3\n.quad dtor_p\n.previous");
__asm__(".section .ctors.00200,\"aw\"\n.p2align 3\n.quad ctor_n\n.previous");
__asm__(".section .dtors.00200,\"aw\"\n.p2align 3\n.quad dtor_n\n.previous");
__asm__(".section .fini_array,\"aw\"\n.p2align 3\n.quad fini_a1\n.quad fini_a2\n.previous");
__asm__(".section .init_array,\"aw\"\n.p2align 3\n.quad init_a1\n.quad init_a2\n.previous");
__asm__(".section .preinit_array,\"aw\"\n.p2align 3\n.quad preinit_a\n.previous");
__attribute__((constructor(300))) static void prio300(void) { printf("prio300\n"); atexit(at_ctor); }
__attribute__((destructor(300))) static void dprio300(void) { printf("dprio300\n"); }
__attribute__((constructor(150))) static void prio150(void) { printf("prio150\n"); }
__attribute__((destructor(150))) static void dprio150(void) { printf("dprio150\n"); }
__attribute__((constructor)) static void plain(void) { printf("plain ctor\n"); }
__attribute__((destructor)) static void dplain(void) { printf("plain dtor\n"); }
void two_hello(void);
int main(void) { printf("main\n"); atexit(at_main); two_hello(); return 0; }
