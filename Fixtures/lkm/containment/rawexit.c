/* rawexit: exit_group(7) made directly from module code, as if the module were the process. */
#include "attack.h"
static int attack(void) { raw_syscall(231 /* exit_group */, 7, 0, 0); return 0; }
ATTACK_MODULE(rawexit)
