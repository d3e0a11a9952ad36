/* static_entry: the entry is a static function (modload finds it with nlist(3), which sees
 * local symbols too): a check and a load agree that it is there. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("static_entry")

static int
static_entry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}

/* Keeps the static entry from being discarded as unused. */
int (*static_entry_keep)(struct lkm_table *, int, int) = static_entry;
