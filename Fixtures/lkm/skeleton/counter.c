/* counter.c: a loadable system call that adds its argument to a count. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

struct counter_args {
	syscallarg(int) step;
};

static int count;

static int
counter_call(struct proc *p, void *v, register_t *retval)
{
	struct counter_args *uap = v;

	count += SCARG(uap, step);
	uprintf("counter: %d, for pid %d\n", count, p->p_pid);
	*retval = count;
	return 0;
}

static struct sysent counter_sysent = {
	1, sizeof(struct counter_args), 0, counter_call
};

MOD_SYSCALL("counter", -1, &counter_sysent)

static int
counter_load(struct lkm_table *lkmtp, int cmd)
{
	printf("counter: loaded\n");
	return 0;
}

static int
counter_unload(struct lkm_table *lkmtp, int cmd)
{
	uprintf("counter: unloaded at %d\n", count);
	return 0;
}

int
counter_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, counter_load, counter_unload, lkm_nofunc)
}
