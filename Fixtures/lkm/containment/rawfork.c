/* rawfork: fork() made directly from module code: a second kernel would serve on the device. */
#include "attack.h"
static int attack(void) { return raw_syscall(57 /* fork */, 0, 0, 0) == 0 ? 0 : 0; }
ATTACK_MODULE(rawfork)
