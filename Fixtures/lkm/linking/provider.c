/* provider: a misc module whose global function later modules link against, as they would
 * against the kernel's own symbols (unless it was loaded with modload -s). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("provider")

int provider_twice(int value);

int
provider_twice(int value)
{
	return (2 * value);
}

int provider_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
provider_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
