/* leakfault: allocates 64 KiB with malloc(9), writes it, then dereferences NULL during its load.
 * The load fails with EFAULT; what it allocated must be freed with it (scripts/soak loads it a
 * thousand times and watches lkmd's memory). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

MOD_MISC("leakfault")

static int
leakfault_load(struct lkm_table *lkmtp, int cmd)
{
	char *p = malloc(64 * 1024, M_TEMP, M_WAITOK);

	memset(p, 0x6c, 64 * 1024);
	*(volatile int *)0 = p[100];
	return (0);
}

int leakfault_lkmentry(struct lkm_table *, int, int);

int
leakfault_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, leakfault_load, lkm_nofunc, lkm_nofunc)
}
