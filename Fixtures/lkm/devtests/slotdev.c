/* A do-nothing device driver for the slot tests: -DNAME='"name"' -DSLOT=major -DBLOCK=0|1. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/lkm.h>

#ifndef NAME
#define NAME "slotdev"
#endif
#ifndef SLOT
#define SLOT -1
#endif
#ifndef BLOCK
#define BLOCK 0
#endif

static int
slotopen(dev_t dev, int flags, int mode, struct proc *p)
{
	return (0);
}

#if BLOCK
static void
slotstrategy(struct buf *bp)
{
}
static struct bdevsw slot_devsw = { slotopen, slotopen, slotstrategy, 0, 0, 0, 0 };
MOD_DEV(NAME, LM_DT_BLOCK, SLOT, &slot_devsw)
#else
static struct cdevsw slot_devsw = { slotopen, slotopen, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
MOD_DEV(NAME, LM_DT_CHAR, SLOT, &slot_devsw)
#endif

int
slotdev_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
