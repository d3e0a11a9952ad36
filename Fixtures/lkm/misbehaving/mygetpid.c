/* mygetpid: explicitly replaces an existing system call, slot 20 (getpid), with one that
 * returns the negated pid. The kernel saves the old entry and restores it on unload. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/syscall.h>
#include <sys/lkm.h>

static int
mygetpid_call(struct proc *p, void *v, register_t *retval)
{
	*retval = -p->p_pid;
	return (0);
}

static struct sysent mygetpid_sysent = {
	0, 0, 0, mygetpid_call
};

MOD_SYSCALL("mygetpid", SYS_getpid, &mygetpid_sysent)

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
