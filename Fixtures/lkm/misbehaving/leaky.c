/* leaky: allocates three buffers at load and frees only one; the kernel reports the other two
 * (128 bytes) in the message buffer when the module unloads. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

MOD_MISC("leaky")

static void *kept[2];

static int
leaky_load(struct lkm_table *lkmtp, int cmd)
{
	void *scratch = malloc(64, M_TEMP, M_WAITOK);

	kept[0] = malloc(100, M_DEVBUF, M_WAITOK | M_ZERO);
	kept[1] = malloc(28, M_DEVBUF, M_WAITOK);
	free(scratch, M_TEMP);
	return (0);
}

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, leaky_load, lkm_nofunc, lkm_nofunc)
}
