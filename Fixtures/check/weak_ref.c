/* An optional kernel function, referenced weakly: absent, it is NULL. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("weak_ref");

extern int optional_feature(void) __attribute__((weak));

static int weak_ref_load(struct lkm_table *lkmtp, int cmd) {
	printf("weak_ref: optional_feature is %s\n", optional_feature ? "there" : "absent");
	return 0;
}

int weak_ref(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, weak_ref_load, lkm_nofunc, lkm_nofunc)
}
