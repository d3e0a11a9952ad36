/* Several undefined symbols; gone_often is referenced from five places. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("missing_many");

extern int gone_often(int);
extern int gone_once(void);
extern int gone_data;

int helper_one(int x) { return gone_often(x) + gone_often(x + 1); }
int helper_two(int x) { return gone_often(x) * gone_often(x + 2); }

static int missing_many_load(struct lkm_table *lkmtp, int cmd) {
	return helper_one(cmd) + helper_two(cmd) + gone_often(3) + gone_once() + gone_data;
}

int missing_many(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, missing_many_load, lkm_nofunc, lkm_nofunc)
}
