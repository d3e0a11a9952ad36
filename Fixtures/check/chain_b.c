/* The middle of the chain: uses chain_a_value, exports chain_b_value. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("chain_b");

extern int chain_a_value(void);

int chain_b_value(void) { return chain_a_value() + 1; }

int chain_b(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
