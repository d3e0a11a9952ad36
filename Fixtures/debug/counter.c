/*
 * counter: the module the debugging walkthrough (docs/writing-modules.md) and the gdb, perf
 * and oops tests use. A system call that counts: counter(n) adds n through two helpers
 * (counter_add, exported, and count_into) and returns the total; counter(-1) dereferences NULL
 * two calls deep (an oops with a call trace); counter(-2) spins for about a second (300 million
 * increments: a profile to record). The tests read its line numbers from this file.
 *
 *	cc -c -g -O0 -D_KERNEL -I Sources/CLKM/kernel/include counter.c
 *	modload counter.o
 *	lkmctl syscall 210 5
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

struct counter_args {
	syscallarg(int) n;
};

static int sys_counter(struct proc *p, void *v, register_t *retval);

static struct sysent counter_sysent = {
	1, sizeof(struct counter_args), 0, sys_counter
};

MOD_SYSCALL("counter", -1, &counter_sysent)

static long total;
static volatile long spins;

static void
count_into(long *where, int n)
{
	*where += n;
}

/* Global: other modules may call it, and lkmctl ksyms lists it. */
void
counter_add(int n)
{
	if (n == -1)
		count_into(NULL, n);	/* the oops */
	else
		count_into(&total, n);
}

static void
spin(void)
{
	long i;

	for (i = 0; i < 300000000L; i++)
		spins++;
}

static int
sys_counter(struct proc *p, void *v, register_t *retval)
{
	struct counter_args *uap = v;
	int n = SCARG(uap, n);

	if (n == -2)
		spin();
	else
		counter_add(n);
	*retval = total;
	return (0);
}

int
counter_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
