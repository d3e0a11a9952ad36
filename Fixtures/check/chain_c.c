/* The top of the chain: uses chain_b_value and prints it when loaded. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("chain_c");

extern int chain_b_value(void);

static int chain_c_load(struct lkm_table *lkmtp, int cmd) {
	printf("chain_c: chain_b_value() = %d\n", chain_b_value());
	return 0;
}

int chain_c(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, chain_c_load, lkm_nofunc, lkm_nofunc)
}
