/* textjump: jumps into the middle of the kernel's own code (a kernel function's address plus
 * an offset), as a mangled call does. What runs there is the kernel's; the kernel may fault,
 * which is a kernel panic, or go on. */
#include "attack.h"
static int attack(void)
{
	void (*volatile into)(void) = (void (*)(void))((char *)printf + 0x1234);
	into();
	return 0;
}
ATTACK_MODULE(textjump)
