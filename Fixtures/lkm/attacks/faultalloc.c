/* faultalloc: allocates 64 KiB at load, touches all of it, then dereferences NULL. The load
 * fails with an oops; the kernel frees the 64 KiB (issue 9: it only reported it, and 1,000
 * such loads grew lkmd by 64 MiB). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

MOD_MISC("faultalloc")

static int
faultalloc_load(struct lkm_table *lkmtp, int cmd)
{
	char *p = malloc(65536, M_TEMP, M_WAITOK);

	memset(p, 1, 65536);
	*(volatile int *)0 = p[100];
	return (0);
}

int faultalloc_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
faultalloc_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, faultalloc_load, lkm_nofunc, lkm_nofunc)
}
