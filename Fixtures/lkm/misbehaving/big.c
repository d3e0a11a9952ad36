/* big: a module whose object is over 256 KiB (initialised data), for lkmd --object-limit. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

unsigned char big_table[256 * 1024] = { 1 };

MOD_MISC("big")

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
