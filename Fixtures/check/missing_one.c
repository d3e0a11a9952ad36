/* Uses one function no kernel has. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("missing_one");

extern int not_in_kernel(int);

static int missing_one_load(struct lkm_table *lkmtp, int cmd) {
	return not_in_kernel(cmd);
}

int missing_one(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, missing_one_load, lkm_nofunc, lkm_nofunc)
}
