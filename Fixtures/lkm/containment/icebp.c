/* icebp: the one-byte int1 (0xf1): SIGTRAP in module code. */
#include "attack.h"
static int attack(void) { __asm__ volatile(".byte 0xf1"); return 0; }
ATTACK_MODULE(icebp)
