/* wildjump: a call to an address that is no code at all (a mangled function pointer). */
#include "attack.h"
static int attack(void)
{
	void (*volatile wild)(void) = (void (*)(void))0x6b6b6b6b6b6bUL;
	wild();
	return 0;
}
ATTACK_MODULE(wildjump)
