/* deep: recursion without end: the module stack's guard page. */
#include "attack.h"
static int depth(volatile char *previous)
{
	volatile char frame[512];
	frame[0] = previous ? previous[0] + 1 : 0;
	return depth(frame) + frame[1];
}
static int attack(void) { return depth(0); }
ATTACK_MODULE(deep)
