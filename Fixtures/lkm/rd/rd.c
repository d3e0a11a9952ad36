/*
 * rd: a loadable RAM disk, a block device driver. The disk is 64 KiB (128 blocks of DEV_BSIZE
 * bytes) of kernel memory, allocated when the module loads and freed when it unloads; the
 * kernel reads and writes it a block at a time through rdstrategy. Load with
 *
 *	modload -p rd_postinstall.sh rd.o
 *
 * The kernel puts it in the first free block major (8 on a fresh kernel); the postinstall
 * script makes /dev/rd0 (lkmctl mknod /dev/rd0 b MAJOR 0). Then
 *
 *	lkmctl write -o 1000 /dev/rd0 'kept in RAM'
 *	lkmctl read -o 1000 /dev/rd0 11	kept in RAM
 *	lkmctl ioctl /dev/rd0 0x40045201	RDIOCGSIZE: 65536
 *
 * Unload with modunload -n rd -p rd_postunload.sh (which removes the node).
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/buf.h>
#include <sys/conf.h>
#include <sys/ioccom.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

#define RD_BLOCKS 128
#define RD_SIZE (RD_BLOCKS * DEV_BSIZE)
#define RDIOCGSIZE _IOR('R', 1, int)	/* the disk's size in bytes */

static char *rd_data;			/* RD_SIZE bytes while loaded */

static int
rdopen(dev_t dev, int flags, int mode, struct proc *p)
{
	if (minor(dev) != 0)
		return (ENXIO);
	return (0);
}

static int
rdclose(dev_t dev, int flags, int mode, struct proc *p)
{
	return (0);
}

/*
 * Synchronous I/O: copy between the buffer and the disk, then biodone. Past the end of the
 * disk nothing is transferred (b_resid = b_bcount), which the kernel reads as the end.
 */
static void
rdstrategy(struct buf *bp)
{
	long offset = bp->b_blkno * DEV_BSIZE;

	if (bp->b_blkno < 0 || offset >= RD_SIZE) {
		bp->b_resid = bp->b_bcount;
		biodone(bp);
		return;
	}
	bp->b_resid = 0;
	if (bp->b_bcount > RD_SIZE - offset) {
		bp->b_resid = bp->b_bcount - (RD_SIZE - offset);
	}
	if (bp->b_flags & B_READ)
		memcpy(bp->b_data, rd_data + offset, bp->b_bcount - bp->b_resid);
	else
		memcpy(rd_data + offset, bp->b_data, bp->b_bcount - bp->b_resid);
	biodone(bp);
}

static int
rdioctl(dev_t dev, u_long cmd, caddr_t data, int flag, struct proc *p)
{
	if (cmd != RDIOCGSIZE)
		return (ENOTTY);
	*(int *)data = RD_SIZE;
	return (0);
}

static daddr_t
rdsize(dev_t dev)
{
	return (RD_BLOCKS);
}

static struct bdevsw rd_bdevsw = {
	rdopen,
	rdclose,
	rdstrategy,
	rdioctl,
	0,		/* dump */
	rdsize,
	D_DISK
};

/* A block device in the first free major (-1). */
MOD_DEV("rd", LM_DT_BLOCK, -1, &rd_bdevsw)

/* The disk's memory: allocated before the kernel installs the driver, freed after unload. */
static int
rd_load(struct lkm_table *lkmtp, int cmd)
{
	rd_data = malloc(RD_SIZE, M_DEVBUF, M_WAITOK | M_ZERO);
	return (0);
}

static int
rd_unload(struct lkm_table *lkmtp, int cmd)
{
	free(rd_data, M_DEVBUF);
	rd_data = NULL;
	return (0);
}

int
rd_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, rd_load, rd_unload, lkm_nofunc)
}
