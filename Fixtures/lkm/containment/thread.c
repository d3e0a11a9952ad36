/* thread: with lkmd --host-symbols, starts a thread (pthread_create) that keeps running in
 * the module's code. Unloading the module under it would leave the thread running freed code:
 * the kernel refuses (EBUSY) while it lives. syscall N 1 tells it to stop; build with
 * -DFAULT for a thread that dereferences NULL instead, or with -DFAILLOAD for a load that
 * starts the thread (which then runs for a second) and fails: the module's memory must stay
 * until the thread ends. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

typedef unsigned long pthread_t;
extern int pthread_create(pthread_t *, const void *, void *(*)(void *), void *);
extern int pthread_join(pthread_t, void **);
extern int usleep(unsigned);

static volatile int stop;
static volatile long ticks;
static pthread_t worker;

static void *
run(void *arg)
{
#ifdef FAULT
	*(volatile int *)0 = 1;
#endif
#ifdef FAILLOAD
	for (int i = 0; i < 1000; i++)
		usleep(1000);
#endif
	while (!stop) {
		ticks++;
		usleep(1000);
	}
	return arg;
}

static int
thread_call(struct proc *p, void *v, register_t *retval)
{
	stop = 1;
	pthread_join(worker, 0);
	*retval = ticks > 0;
	return (0);
}

static struct sysent thread_sysent = { 0, 0, 0, thread_call };

MOD_SYSCALL("thread", -1, &thread_sysent)

static int
thread_load(struct lkm_table *lkmtp, int cmd)
{
	int error = pthread_create(&worker, 0, run, 0);
#ifdef FAILLOAD
	stop = 1; /* after its second, the thread ends */
	return error ? error : 5 /* EIO */;
#else
	return error;
#endif
}

int thread_lkmentry(struct lkm_table *, int, int);

int
thread_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, thread_load, lkm_nofunc, lkm_nofunc)
}
