/*
 * ticker: a character device driven by a timeout(9), as a driver polling hardware on a timer
 * is. A timeout runs every tick (hz times a second) from the kernel's callout thread, counts,
 * and wakes the readers sleeping for the next tick; reading /dev/ticker0 sleeps until then and
 * gives the count, "ticks N\n". Load with
 *
 *	modload -p ticker_postinstall.sh ticker.o
 *	lkmctl read /dev/ticker0		ticks 57
 *	lkmctl read /dev/ticker0		ticks 63
 *
 * Unloading cancels the timeout (timeout_del). Built with -DLEAVE_PENDING, the unload hook
 * forgets to: the kernel cancels what the module left pending and says so in dmesg.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/kernel.h>
#include <sys/timeout.h>
#include <sys/uio.h>
#include <sys/lkm.h>

static struct timeout ticker_timeout;
static volatile long ticker_count;

static void
ticker_tick(void *arg)
{
	ticker_count++;
	wakeup(&ticker_count);
	timeout_add(&ticker_timeout, 1);
}

static int
tickeropen(dev_t dev, int flags, int mode, struct proc *p)
{
	return (minor(dev) == 0 ? 0 : ENXIO);
}

static int
tickerclose(dev_t dev, int flags, int mode, struct proc *p)
{
	return (0);
}

static int
tickerread(dev_t dev, struct uio *uio, int ioflag)
{
	char line[32];
	int error, n;

	/* The next tick, at most a second away. */
	error = tsleep(&ticker_count, PZERO | PCATCH, "tick", hz);
	if (error && error != EWOULDBLOCK)
		return (error);
	n = snprintf(line, sizeof(line), "ticks %ld\n", ticker_count);
	return (uiomove(line, MIN((size_t)n, uio->uio_resid), uio));
}

static int
tickerioctl(dev_t dev, u_long cmd, caddr_t data, int flag, struct proc *p)
{
	return (ENOTTY);
}

static struct cdevsw ticker_cdevsw = {
	tickeropen,
	tickerclose,
	tickerread,
	(int (*)(dev_t, struct uio *, int))enodev,
	tickerioctl,
	0, 0, 0, 0, 0, 0, 0
};

MOD_DEV("ticker", LM_DT_CHAR, -1, &ticker_cdevsw)

static int
ticker_load(struct lkm_table *lkmtp, int cmd)
{
	timeout_set(&ticker_timeout, ticker_tick, NULL);
	timeout_add(&ticker_timeout, 1);
	return (0);
}

static int
ticker_unload(struct lkm_table *lkmtp, int cmd)
{
#ifndef LEAVE_PENDING
	timeout_del(&ticker_timeout);
#endif
	return (0);
}

int ticker_lkmentry(struct lkm_table *, int, int);

int
ticker_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, ticker_load, ticker_unload, lkm_nofunc)
}
