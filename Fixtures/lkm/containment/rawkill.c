/* rawkill: kill(getpid(), SIGNAL) made directly from module code (SIGKILL by default; build
 * with -DSIGNAL=10 for SIGUSR1). */
#include "attack.h"
#ifndef SIGNAL
#define SIGNAL 9
#endif
static int attack(void) { raw_syscall(62 /* kill */, raw_syscall(39 /* getpid */, 0, 0, 0), SIGNAL, 0); return 0; }
ATTACK_MODULE(rawkill)
