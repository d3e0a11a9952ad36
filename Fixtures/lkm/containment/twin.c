/* twin: a misc module that does not call lkmexists: loaded twice, the second copy is refused
 * (EEXIST) all the same, since module names are unique whatever the type. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("twin")

int twin_value = 1;

int twin_lkmentry(struct lkm_table *, int, int);

int
twin_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
