/* ud2: an undefined instruction: SIGILL in module code. */
#include "attack.h"
static int attack(void) { __asm__ volatile("ud2"); return 0; }
ATTACK_MODULE(ud2)
