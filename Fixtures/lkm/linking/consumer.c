/* consumer: a system call that calls provider_twice, defined by the provider module. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

extern int provider_twice(int value);

struct consumer_args {
	syscallarg(int) value;
};

static int
consumer_call(struct proc *p, void *v, register_t *retval)
{
	struct consumer_args *uap = v;

	*retval = provider_twice(SCARG(uap, value));
	return (0);
}

static struct sysent consumer_sysent = {
	1, sizeof(struct consumer_args), 0, consumer_call
};

MOD_SYSCALL("consumer", -1, &consumer_sysent)

int consumer_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
consumer_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
