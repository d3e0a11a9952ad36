/* rawsigblock: blocks every signal with a raw rt_sigprocmask, then pause()s, so that no
 * watchdog can interrupt it. */
#include "attack.h"
static int attack(void)
{
	unsigned long all = ~0UL;
	raw_syscall(14 /* rt_sigprocmask */, 0 /* SIG_BLOCK */, (long)&all, 0);
	for (;;)
		raw_syscall(34 /* pause */, 0, 0, 0);
	return 0;
}
ATTACK_MODULE(rawsigblock)
