/* faultcall: loads cleanly, but its system call stores through the address it is given (NULL
 * by default). The call fails with EFAULT, the module is marked faulted, lkmd keeps serving. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

struct faultcall_args {
	syscallarg(int *) where;
};

static int
faultcall_call(struct proc *p, void *v, register_t *retval)
{
	struct faultcall_args *uap = v;
	volatile int *where = SCARG(uap, where);

	*where = 42;
	*retval = 0;
	return (0);
}

static struct sysent faultcall_sysent = {
	1, sizeof(struct faultcall_args), 0, faultcall_call
};

MOD_SYSCALL("faultcall", -1, &faultcall_sysent)

int faultcall_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
faultcall_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
