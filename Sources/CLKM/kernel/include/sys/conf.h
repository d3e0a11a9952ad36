/* lkm kernel headers: <sys/conf.h>: the device switches, with OpenBSD/amd64's entry points and
 * layout. The kernel's tables are bdevsw[nblkdev] (20 block majors) and cdevsw[nchrdev]
 * (87 character majors); the majors OpenBSD left for loadable drivers hold lkmenodev
 * placeholders (block 8-13, 15, 18; character 11, 29-34). A device module (MOD_DEV) gives the
 * kernel one entry, which is copied into the first free major or the one it asks for.
 *
 * The kernel calls d_open, d_close, d_read, d_write and d_ioctl of a character device, and
 * d_open, d_close, d_strategy and d_ioctl of a block device; an entry that is NULL or one of
 * enodev/lkmenodev fails with ENODEV, nullop succeeds. The other members keep OpenBSD's layout
 * and are not called. */
#ifndef _SYS_CONF_H_
#define _SYS_CONF_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"
#include "fcntl.h"
#include "stat.h"

struct buf;
struct knote;
struct proc;
struct tty;
struct uio;

/* Block device switch (56 bytes) */
struct bdevsw {
	int (*d_open)(dev_t dev, int oflags, int devtype, struct proc *p);
	int (*d_close)(dev_t dev, int fflag, int devtype, struct proc *p);
	void (*d_strategy)(struct buf *bp);
	int (*d_ioctl)(dev_t dev, u_long cmd, caddr_t data, int fflag, struct proc *p);
	int (*d_dump)(dev_t dev, daddr_t blkno, caddr_t va, size_t size);
	daddr_t (*d_psize)(dev_t dev);
	u_int d_type;
};

/* Character device switch (88 bytes) */
struct cdevsw {
	int (*d_open)(dev_t dev, int oflags, int devtype, struct proc *p);
	int (*d_close)(dev_t dev, int fflag, int devtype, struct proc *p);
	int (*d_read)(dev_t dev, struct uio *uio, int ioflag);
	int (*d_write)(dev_t dev, struct uio *uio, int ioflag);
	int (*d_ioctl)(dev_t dev, u_long cmd, caddr_t data, int fflag, struct proc *p);
	int (*d_stop)(struct tty *tp, int rw);
	struct tty *(*d_tty)(dev_t dev);
	int (*d_poll)(dev_t dev, int events, struct proc *p);
	paddr_t (*d_mmap)(dev_t dev, off_t off, int prot);
	u_int d_type;
	u_int d_flags;
	int (*d_kqfilter)(dev_t dev, struct knote *kn);
};

/* d_type */
#define D_DISK 1
#define D_TTY 2

/* The open flags (oflags, fflag) the kernel passes are FREAD and FWRITE of <sys/fcntl.h>; the
 * devtype it passes to d_open and d_close is S_IFCHR or S_IFBLK of <sys/stat.h>. */

__BEGIN_DECLS
extern struct bdevsw bdevsw[];
extern struct cdevsw cdevsw[];
extern int nblkdev;
extern int nchrdev;

/* Placeholders: lkmenodev marks a free major (the kernel compares d_open with it), enodev an
 * entry point a driver does not have (both ENODEV); nullop succeeds. Cast them to the entry's
 * type, as OpenBSD's (dev_type_open((*))) casts do. */
int lkmenodev(void);
int enodev(void);
int nullop(void *);
__END_DECLS

#endif /* !_SYS_CONF_H_ */
