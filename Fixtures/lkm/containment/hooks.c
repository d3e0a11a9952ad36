/* hooks: a module whose LKM_E_STAT hook (-DSTAT) or LKM_E_UNLOAD hook (-DUNLOAD) dereferences
 * NULL. Its stat fails with EFAULT (modstat lists the other modules and says so); one whose
 * unload hook faults can only be removed with modunload -f. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

#ifdef STAT
MOD_MISC("statfault")
#define ENTRY statfault_lkmentry
#else
MOD_MISC("unloadfault")
#define ENTRY unloadfault_lkmentry
#endif

static int
fault(struct lkm_table *lkmtp, int cmd)
{
	*(volatile int *)0 = cmd;
	return (0);
}

int ENTRY(struct lkm_table *, int, int);

int
ENTRY(struct lkm_table *lkmtp, int cmd, int ver)
{
#ifdef STAT
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, fault)
#else
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, fault, lkm_nofunc)
#endif
}
