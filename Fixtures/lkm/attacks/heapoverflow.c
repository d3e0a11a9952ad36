/* heapoverflow: overruns a 24-byte malloc(9) allocation by 232 bytes at load, then frees it
 * (issue 9: with the allocator in glibc's heap this aborted lkmd). The kernel finds the redzone
 * overwritten at free(): an oops naming the allocation's size and caller fails the load, and the
 * allocation is reported and freed with the module's other memory. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

MOD_MISC("heapoverflow")

static int
heapoverflow_load(struct lkm_table *lkmtp, int cmd)
{
	char *p = malloc(24, M_TEMP, M_WAITOK);

	memset(p, 'A', 256);
	free(p, M_TEMP);
	return (0);
}

int heapoverflow_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
heapoverflow_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, heapoverflow_load, lkm_nofunc, lkm_nofunc)
}
