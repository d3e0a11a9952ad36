/* slotsteal: writes sysent[215] itself (as a misc module may) and then fails its load: the
 * slot would point into freed memory, and the next module loaded there would be what
 * `lkmctl syscall 215` runs. The kernel puts the slot back. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/errno.h>
#include <sys/lkm.h>

static int
stolen(struct proc *p, void *v, register_t *retval)
{
	*retval = 666;
	return (0);
}

MOD_MISC("slotsteal")

static int
slotsteal_load(struct lkm_table *lkmtp, int cmd)
{
	sysent[215].sy_call = stolen;
	return (EIO);
}

int slotsteal_lkmentry(struct lkm_table *, int, int);

int
slotsteal_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, slotsteal_load, lkm_nofunc, lkm_nofunc)
}
