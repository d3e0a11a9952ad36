/* nullderef: dereferences NULL in its load handler. The load fails with EFAULT and lkmd writes
 * an oops naming nullderef_load; the kernel keeps serving. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("nullderef")

static int
nullderef_load(struct lkm_table *lkmtp, int cmd)
{
	volatile int *p = NULL;

	*p = 1;
	return (0);
}

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, nullderef_load, lkm_nofunc, lkm_nofunc)
}
