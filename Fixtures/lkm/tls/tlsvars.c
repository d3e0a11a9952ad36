/*
 * tlsvars: thread-local variables in a module. Every kernel thread has its own copy of them,
 * made when the thread first runs the module's code: the initialized one (.tdata) starts at 40
 * and the others (.tbss) at zero, in the threads that existed before the load (the request
 * threads, the callout thread) as in those made afterwards.
 *
 *	lkmctl syscall 210 1 NAME	names this thread, counter 1, and sleeps until op 2 wakes it
 *	lkmctl syscall 210 2 NAME	names this thread, counter 2, and wakes the sleeper
 *	lkmctl syscall 210 3		a timeout shows what the callout thread has (dmesg), then
 *					counts there
 *
 * Each prints what its own thread sees: with ordinary variables the sleeper would see the
 * waker's name and counter. Built with -DTLSVARS_BIG=N, it has N bytes more of them.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/proc.h>
#include <sys/timeout.h>
#include <sys/lkm.h>

__thread long tls_counter = 40;
static __thread char tls_name[16];
static __thread int tls_calls;

#ifdef TLSVARS_BIG
/* More than the kernel's reservation holds: the load fails, naming the sizes. */
__thread char tls_big[TLSVARS_BIG];
#endif

static int tls_sleeping;
static struct timeout tls_timeout;

struct tlsvars_args {
	syscallarg(long) op;
	syscallarg(const char *) name;
};

static int tlsvars_call(struct proc *p, void *v, register_t *retval);

static struct sysent tlsvars_sysent = {
	2, sizeof(struct tlsvars_args), 0, tlsvars_call
};

MOD_SYSCALL("tlsvars", -1, &tlsvars_sysent)

static void
tlsvars_tick(void *arg)
{
	tls_calls++;
	printf("tlsvars: timeout: counter %ld, name '%s', calls %d\n", tls_counter, tls_name,
	    tls_calls);
	tls_counter++;
}

static int
tlsvars_call(struct proc *p, void *v, register_t *retval)
{
	struct tlsvars_args *uap = v;
	size_t done;
	int error;

	tls_calls++;
	switch (SCARG(uap, op)) {
	case 1:
	case 2:
		error = copyinstr(SCARG(uap, name), tls_name, sizeof tls_name, &done);
		if (error)
			return (error);
		tls_counter = SCARG(uap, op);
		if (SCARG(uap, op) == 1) {
			tls_sleeping = 1;
			while (tls_sleeping)
				if (tsleep(&tls_sleeping, PWAIT, "tlswait", 60 * hz) ==
				    EWOULDBLOCK) {
					tls_sleeping = 0;
					return (EWOULDBLOCK);
				}
		} else {
			if (!tls_sleeping)
				return (EAGAIN);
			tls_sleeping = 0;
			wakeup(&tls_sleeping);
		}
		uprintf("%s: counter %ld\n", tls_name, tls_counter);
		return (0);
	case 3:
		timeout_set(&tls_timeout, tlsvars_tick, NULL);
		timeout_add(&tls_timeout, 1);
		return (0);
	}
	return (EINVAL);
}

static int
tlsvars_load(struct lkm_table *lkmtp, int cmd)
{
	printf("tlsvars: load: counter %ld, name '%s'\n", tls_counter, tls_name);
#ifdef TLSVARS_BIG
	tls_big[TLSVARS_BIG - 1] = 1;
#endif
	return (0);
}

static int
tlsvars_unload(struct lkm_table *lkmtp, int cmd)
{
	timeout_del(&tls_timeout);
	return (0);
}

int tlsvars_lkmentry(struct lkm_table *, int, int);
int
tlsvars_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, tlsvars_load, tlsvars_unload, lkm_nofunc)
}
