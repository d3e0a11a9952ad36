/* badslot: asks for system call slot 400, past SYS_MAXSYSCALL: the kernel refuses with EINVAL
 * (and modload, seeing EINVAL, retries as an old-version module, which fails too). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/syscall.h>
#include <sys/lkm.h>

static int
badslot_call(struct proc *p, void *v, register_t *retval)
{
	return (0);
}

static struct sysent badslot_sysent = {
	0, 0, 0, badslot_call
};

MOD_SYSCALL("badslot", SYS_MAXSYSCALL + 89, &badslot_sysent)

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
