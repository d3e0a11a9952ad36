/*
 * rot13: a loadable character device driver (the device example OpenBSD's /usr/share/lkm never
 * had). Whatever is written to /dev/rot13 is kept; reading gives it back rotated through the
 * alphabet, by 13 places unless an ioctl sets another amount. Load with
 *
 *	modload -p rot13_postinstall.sh rot13.o
 *
 * The kernel puts the driver in the first free character major (11 on a fresh kernel) and
 * modstat shows it in the "Off" column; the postinstall script, run with the module's id, type
 * and major, makes the node with lkmctl mknod /dev/rot13 c MAJOR 0. Then
 *
 *	lkmctl write /dev/rot13 'Hello, world'
 *	lkmctl read /dev/rot13			Uryyb, jbeyq
 *	lkmctl ioctl /dev/rot13 0x80047201 1	ROT13IOCSROT: rotate by 1
 *	lkmctl ioctl /dev/rot13 0x40047202	ROT13IOCGROT: prints 1
 *
 * Unload with modunload -n rot13 -p rot13_postunload.sh (which removes the node).
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/conf.h>
#include <sys/ioccom.h>
#include <sys/uio.h>
#include <sys/lkm.h>

#define ROT13IOCSROT _IOW('r', 1, int)	/* set the rotation, 0-25 */
#define ROT13IOCGROT _IOR('r', 2, int)	/* get it */
#define ROT13IOCGLEN _IOR('r', 3, int)	/* how many bytes are kept */

#define ROT13_SIZE 4096

static char rot13_buf[ROT13_SIZE];	/* what was written, as written */
static size_t rot13_len;
static int rot13_rotation = 13;

static int
rot13open(dev_t dev, int flags, int mode, struct proc *p)
{
	if (minor(dev) != 0)
		return (ENXIO);
	return (0);
}

static int
rot13close(dev_t dev, int flags, int mode, struct proc *p)
{
	return (0);
}

static char
rotate(char c, int by)
{
	if (c >= 'a' && c <= 'z')
		return 'a' + (c - 'a' + by) % 26;
	if (c >= 'A' && c <= 'Z')
		return 'A' + (c - 'A' + by) % 26;
	return c;
}

/* Reads give the kept text from uio_offset on, rotated. */
static int
rot13read(dev_t dev, struct uio *uio, int ioflag)
{
	char chunk[256];
	int error = 0;

	while (uio->uio_resid > 0 && uio->uio_offset < (off_t)rot13_len) {
		size_t n = MIN(uio->uio_resid, rot13_len - uio->uio_offset);
		size_t i;

		n = MIN(n, sizeof(chunk));
		for (i = 0; i < n; i++)
			chunk[i] = rotate(rot13_buf[uio->uio_offset + i], rot13_rotation);
		if ((error = uiomove(chunk, n, uio)) != 0)
			break;
	}
	return (error);
}

/* A write at offset 0 replaces the kept text; later offsets extend it. */
static int
rot13write(dev_t dev, struct uio *uio, int ioflag)
{
	size_t n;
	int error;

	if (uio->uio_offset >= ROT13_SIZE)
		return (ENOSPC);
	n = MIN(uio->uio_resid, ROT13_SIZE - uio->uio_offset);
	rot13_len = uio->uio_offset;
	if ((error = uiomove(rot13_buf + uio->uio_offset, n, uio)) != 0)
		return (error);
	rot13_len += n;
	return (0);
}

static int
rot13ioctl(dev_t dev, u_long cmd, caddr_t data, int flag, struct proc *p)
{
	switch (cmd) {
	case ROT13IOCSROT:
		if (*(int *)data < 0 || *(int *)data > 25)
			return (EINVAL);
		rot13_rotation = *(int *)data;
		return (0);
	case ROT13IOCGROT:
		*(int *)data = rot13_rotation;
		return (0);
	case ROT13IOCGLEN:
		*(int *)data = (int)rot13_len;
		return (0);
	default:
		return (ENOTTY);
	}
}

/* The character device switch entry: open, close, read, write, ioctl; the rest unused. */
static struct cdevsw rot13_cdevsw = {
	rot13open,
	rot13close,
	rot13read,
	rot13write,
	rot13ioctl,
	0,		/* stop */
	0,		/* tty */
	0,		/* poll */
	0,		/* mmap */
	0,		/* type */
	0,		/* flags */
	0		/* kqfilter */
};

/* A character device in the first free major (-1). */
MOD_DEV("rot13", LM_DT_CHAR, -1, &rot13_cdevsw)

int
rot13_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
