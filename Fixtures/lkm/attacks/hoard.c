/* hoard: allocates about 36 MiB at load and never frees it: an 800000-byte array, then 100000
 * allocations of 200 bytes (slab slots), then four of 4 MiB (mappings of their own), all
 * written to. Its unload reports the leak and the kernel gives the memory back to the system. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

MOD_MISC("hoard")

#define HOARD_SMALL 100000
#define HOARD_LARGE 4

static int
hoard_load(struct lkm_table *lkmtp, int cmd)
{
	char **kept = malloc(HOARD_SMALL * sizeof(char *), M_TEMP, M_WAITOK | M_ZERO);
	char *big;
	int i;

	for (i = 0; i < HOARD_SMALL; i++) {
		kept[i] = malloc(200, M_TEMP, M_WAITOK);
		memset(kept[i], i, 200);
	}
	for (i = 0; i < HOARD_LARGE; i++) {
		big = malloc(4 << 20, M_TEMP, M_WAITOK);
		memset(big, i, 4 << 20);
	}
	return (0);
}

int hoard_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
hoard_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, hoard_load, lkm_nofunc, lkm_nofunc)
}
