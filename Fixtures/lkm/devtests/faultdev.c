/*
 * faultdev: a character device driver that misbehaves. read dereferences NULL; write's entry
 * point is not code (0x1234); ioctl loops forever (the watchdog stops it).
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/uio.h>
#include <sys/lkm.h>

static int
faultopen(dev_t dev, int flags, int mode, struct proc *p)
{
	return (0);
}

static int
faultread(dev_t dev, struct uio *uio, int ioflag)
{
	volatile int *null = NULL;

	return (*null);
}

static int
faultioctl(dev_t dev, u_long cmd, caddr_t data, int flag, struct proc *p)
{
	volatile int forever = 1;

	while (forever)
		;
	return (0);
}

static struct cdevsw fault_cdevsw = {
	faultopen,
	faultopen,
	faultread,
	(int (*)(dev_t, struct uio *, int))0x1234,
	faultioctl,
	0, 0, 0, 0, 0, 0, 0
};

MOD_DEV("faultdev", LM_DT_CHAR, -1, &fault_cdevsw)

int
faultdev_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
