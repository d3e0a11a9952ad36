/* busy: refuses to unload (its unload hook returns nonzero, which the kernel reports as EBUSY)
 * until its system call is called with 1. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

struct busy_args {
	syscallarg(int) release;
};

static int released;

static int
busy_call(struct proc *p, void *v, register_t *retval)
{
	struct busy_args *uap = v;

	released = SCARG(uap, release);
	*retval = released;
	return (0);
}

static struct sysent busy_sysent = {
	1, sizeof(struct busy_args), 0, busy_call
};

MOD_SYSCALL("busy", -1, &busy_sysent)

static int
busy_unload(struct lkm_table *lkmtp, int cmd)
{
	if (!released) {
		printf("busy: still in use\n");
		return (EPERM);	/* any refusal is EBUSY to modunload */
	}
	return (0);
}

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, busy_unload, lkm_nofunc)
}
