// cxxentry: the entry has modload's name but C++ linkage (no extern "C").
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("cxxentry")

int cxxentry_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
