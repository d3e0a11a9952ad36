/* panicky: calls panic() in its load handler. In module code a panic is an oops, not the end
 * of the kernel: the load fails with EFAULT. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("panicky")

static int
panicky_load(struct lkm_table *lkmtp, int cmd)
{
	panic("panicky: refusing to run (cmd %d)", cmd);
}

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, panicky_load, lkm_nofunc, lkm_nofunc)
}
