/*
 * pipe: a character device that blocks, as a driver of a real kernel does. What is written to
 * /dev/pipe0 is kept (up to 4 KiB) until it is read; a read of an empty pipe sleeps (tsleep(9),
 * interruptibly: PCATCH) until a writer wakes it (wakeup(9)), and a writer to a full pipe sleeps
 * until a reader makes room. Load with
 *
 *	modload -p pipe_postinstall.sh pipe.o
 *
 * (the script makes /dev/pipe0 with the major the kernel chose), then in one shell
 *
 *	lkmctl read /dev/pipe0			waits ...
 *
 * and in another
 *
 *	lkmctl write /dev/pipe0 hello		... and the first prints hello
 *
 * A reader whose client goes away (^C) wakes with EINTR. While a reader sleeps in the driver
 * the module cannot be unloaded (EBUSY). poll(2) works too (d_poll with selrecord(9), and
 * selwakeup(9) when data arrives or room is made): `lkmctl poll /dev/pipe0 5000` waits until
 * the pipe is readable.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/uio.h>
#include <sys/poll.h>
#include <sys/select.h>
#include <sys/lkm.h>

#define PIPE_SIZE 4096

static char pipe_buf[PIPE_SIZE];
static size_t pipe_len;		/* bytes in pipe_buf; readers and writers sleep on it */
static int pipe_readers, pipe_writers;
static struct selinfo pipe_rsel, pipe_wsel;	/* pollers waiting to read, to write */

static int
pipeopen(dev_t dev, int flags, int mode, struct proc *p)
{
	return (minor(dev) == 0 ? 0 : ENXIO);
}

static int
pipeclose(dev_t dev, int flags, int mode, struct proc *p)
{
	return (0);
}

static int
piperead(dev_t dev, struct uio *uio, int ioflag)
{
	size_t n;
	int error, s;

	s = spltty();
	while (pipe_len == 0) {
		pipe_readers++;
		error = tsleep(&pipe_len, PZERO | PCATCH, "piperd", 0);
		pipe_readers--;
		if (error) {
			splx(s);
			return (error);
		}
	}
	n = MIN(uio->uio_resid, pipe_len);
	error = uiomove(pipe_buf, n, uio);
	if (error == 0) {
		memmove(pipe_buf, pipe_buf + n, pipe_len - n);
		pipe_len -= n;
		if (pipe_writers > 0)
			wakeup(&pipe_len);
		selwakeup(&pipe_wsel);
	}
	splx(s);
	return (error);
}

static int
pipewrite(dev_t dev, struct uio *uio, int ioflag)
{
	size_t n;
	int error = 0, s;

	s = spltty();
	while (uio->uio_resid > 0) {
		while (pipe_len == PIPE_SIZE) {
			pipe_writers++;
			error = tsleep(&pipe_len, PZERO | PCATCH, "pipewr", 0);
			pipe_writers--;
			if (error)
				goto out;
		}
		n = MIN(uio->uio_resid, PIPE_SIZE - pipe_len);
		if ((error = uiomove(pipe_buf + pipe_len, n, uio)) != 0)
			break;
		pipe_len += n;
		if (pipe_readers > 0)
			wakeup(&pipe_len);
		selwakeup(&pipe_rsel);
	}
out:
	splx(s);
	return (error);
}

static int
pipeioctl(dev_t dev, u_long cmd, caddr_t data, int flag, struct proc *p)
{
	return (ENOTTY);
}

/* Readable with data kept, writable with room; otherwise recorded for a selwakeup. */
static int
pipepoll(dev_t dev, int events, struct proc *p)
{
	int revents = 0, s;

	s = spltty();
	if (events & (POLLIN | POLLRDNORM)) {
		if (pipe_len > 0)
			revents |= events & (POLLIN | POLLRDNORM);
		else
			selrecord(p, &pipe_rsel);
	}
	if (events & (POLLOUT | POLLWRNORM)) {
		if (pipe_len < PIPE_SIZE)
			revents |= events & (POLLOUT | POLLWRNORM);
		else
			selrecord(p, &pipe_wsel);
	}
	splx(s);
	return (revents);
}

static struct cdevsw pipe_cdevsw = {
	pipeopen,
	pipeclose,
	piperead,
	pipewrite,
	pipeioctl,
	0,		/* stop */
	0,		/* tty */
	pipepoll,
	0,		/* mmap */
	0,		/* type */
	0,		/* flags */
	0		/* kqfilter */
};

MOD_DEV("pipe", LM_DT_CHAR, -1, &pipe_cdevsw)

int pipe_lkmentry(struct lkm_table *, int, int);

int
pipe_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
