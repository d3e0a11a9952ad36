/* mallocbench: times the kernel's malloc(9)/free(9) against glibc's allocator (reached as
 * __libc_malloc/__libc_free, so lkmd must run with --host-symbols). The system call's argument
 * is the allocation size; it reports through uprintf, in nanoseconds per malloc+free pair, the
 * best of five runs of each (wall-clock time: the best run is the one least preempted):
 *   pair   malloc then free, 40000 times (the hot path: one slot reused)
 *   batch  1000 mallocs, then the 1000 frees, 20 times (slab growth and next-fit search) */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/time.h>
#include <sys/lkm.h>

void *__libc_malloc(size_t);
void __libc_free(void *);

struct mallocbench_args {
	syscallarg(int) size;
};

#define PAIRS 40000
#define BATCH 1000
#define ROUNDS 20
#define RUNS 5

static void *kept[BATCH];

static long
now_ns(void)
{
	struct timespec t;

	nanotime(&t);
	return (t.tv_sec * 1000000000L + t.tv_nsec);
}

/* One run: nanoseconds per pair. */
static long
run(size_t size, int glibc, int batch)
{
	long t0 = now_ns();
	int i, r;

	if (!batch) {
		for (i = 0; i < PAIRS; i++) {
			void *volatile q = glibc ? __libc_malloc(size) : malloc(size, M_TEMP, M_WAITOK);
			if (glibc)
				__libc_free(q);
			else
				free(q, M_TEMP);
		}
		return ((now_ns() - t0) / PAIRS);
	}
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < BATCH; i++)
			kept[i] = glibc ? __libc_malloc(size) : malloc(size, M_TEMP, M_WAITOK);
		for (i = 0; i < BATCH; i++) {
			if (glibc)
				__libc_free(kept[i]);
			else
				free(kept[i], M_TEMP);
		}
	}
	return ((now_ns() - t0) / (BATCH * ROUNDS));
}

static long
best(size_t size, int glibc, int batch)
{
	long b = run(size, glibc, batch), t;
	int i;

	for (i = 1; i < RUNS; i++)
		if ((t = run(size, glibc, batch)) < b)
			b = t;
	return (b);
}

static int
mallocbench_call(struct proc *p, void *v, register_t *retval)
{
	struct mallocbench_args *uap = v;
	size_t size = SCARG(uap, size);

	uprintf("size %d: pair kernel %ld ns glibc %ld ns; batch kernel %ld ns glibc %ld ns\n",
	    (int)size, best(size, 0, 0), best(size, 1, 0), best(size, 0, 1), best(size, 1, 1));
	*retval = 0;
	return (0);
}

static struct sysent mallocbench_sysent = {
	1, sizeof(struct mallocbench_args), 0, mallocbench_call
};

MOD_SYSCALL("mallocbench", -1, &mallocbench_sysent)

int mallocbench_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
mallocbench_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
