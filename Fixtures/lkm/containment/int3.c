/* int3: a breakpoint instruction (one mutated byte of a valid module): SIGTRAP in module code. */
#include "attack.h"
static int attack(void) { __asm__ volatile("int3"); return 0; }
ATTACK_MODULE(int3)
