/* spin: loops forever in its load handler. The watchdog (lkmd --watchdog SECONDS) interrupts
 * it and the load fails with EFAULT. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("spin")

static volatile unsigned long spins;

static int
spin_load(struct lkm_table *lkmtp, int cmd)
{
	for (;;)
		spins++;
	return (0);
}

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, spin_load, lkm_nofunc, lkm_nofunc)
}
