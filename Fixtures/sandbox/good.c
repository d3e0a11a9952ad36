/* A well-behaved misc module: loads, answers stat, unloads. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/errno.h>

MOD_MISC("good")

static int good_load(struct lkm_table *lkmtp, int cmd) {
	printf("good: loaded\n");
	return 0;
}

int good_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, good_load, lkm_nofunc, lkm_nofunc)
}
