/* guardpage: allocates 40,000 bytes (a large allocation: a mapping of its own, the data ending
 * where the trailing guard page begins) and writes the byte after them. The write faults at
 * once, in the guard page, whether guard pages are guard regions (Linux 6.13) or PROT_NONE
 * pages (LKM_GUARD_REGIONS=0): the load fails with an oops and lkmd serves on. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

MOD_MISC("guardpage")

static int
guardpage_load(struct lkm_table *lkmtp, int cmd)
{
	char *p = malloc(40000, M_TEMP, M_WAITOK);

	memset(p, 1, 40000);
	((volatile char *)p)[40000] = 2;
	free(p, M_TEMP);
	return (0);
}

int guardpage_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
guardpage_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, guardpage_load, lkm_nofunc, lkm_nofunc)
}
