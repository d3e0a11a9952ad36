/* wrongentry: a module whose entry is not named by modload's rule (xxxinit, then
 * wrongentry_lkmentry). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("wrongentry")

int wrongentry_entry(struct lkm_table *, int, int);
int wrongentry_entry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
