/* Writes through a NULL pointer while it loads. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/errno.h>

MOD_MISC("nullderef")

volatile int *nullderef_target;

static int nullderef_load(struct lkm_table *lkmtp, int cmd) {
	*nullderef_target = 42;
	return 0;
}

int nullderef_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, nullderef_load, lkm_nofunc, lkm_nofunc)
}
