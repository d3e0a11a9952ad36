/* slowcall: a system call that sleeps for the number of milliseconds it is given, holding the
 * kernel meanwhile. It calls the host C library's usleep, so lkmd needs --host-symbols. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

int usleep(unsigned int usec);	/* the host C library's, not a kernel function */

struct slowcall_args {
	syscallarg(int) milliseconds;
};

static int
slowcall_call(struct proc *p, void *v, register_t *retval)
{
	struct slowcall_args *uap = v;

	printf("slowcall: sleeping %d ms\n", SCARG(uap, milliseconds));
	usleep((unsigned int)SCARG(uap, milliseconds) * 1000);
	*retval = SCARG(uap, milliseconds);
	return (0);
}

static struct sysent slowcall_sysent = {
	1, sizeof(struct slowcall_args), 0, slowcall_call
};

MOD_SYSCALL("slowcall", -1, &slowcall_sysent)

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
