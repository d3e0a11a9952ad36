/* Never returns from its load handler. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/errno.h>

MOD_MISC("spin")

volatile unsigned long spin_count;

static int spin_load(struct lkm_table *lkmtp, int cmd) {
	for (;;)
		spin_count++;
	return 0;
}

int spin_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, spin_load, lkm_nofunc, lkm_nofunc)
}
