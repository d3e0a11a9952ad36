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

/* d_type (OpenBSD's values) */
#define D_TAPE 1
#define D_DISK 2
#define D_TTY 3

/* d_flags */
#define D_KQFILTER 0x0001 /* has kqfilter entry */
#define D_CLONE 0x0002    /* clone upon open */

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
/* enxio returns ENXIO (dev_init's entry for a driver configured out); seltrue and selfalse are
 * d_poll entries for devices that are always or never ready (seltrue returns the events of
 * POLLIN, POLLOUT, POLLRDNORM and POLLWRNORM asked for). There is no kqueue: seltrue_kqfilter
 * returns EOPNOTSUPP, and the kernel calls neither d_poll nor d_kqfilter. */
int enxio(void);
int seltrue(dev_t, int, struct proc *);
int selfalse(dev_t, int, struct proc *);
int seltrue_kqfilter(dev_t, struct knote *);
__END_DECLS

#ifdef _KERNEL
/* OpenBSD 5.2's declarations of a driver's entry points: cdev_decl(foo) declares fooopen,
 * fooclose, fooread, foowrite, fooioctl, foostop, footty, foopoll, foommap and fookqfilter with
 * the types the switch wants; bdev_decl(foo) fooopen, fooclose, foostrategy, fooioctl, foodump
 * and foosize. */
#define dev_type_open(n) int n(dev_t, int, int, struct proc *)
#define dev_type_close(n) int n(dev_t, int, int, struct proc *)
#define dev_type_strategy(n) void n(struct buf *)
#define dev_type_ioctl(n) int n(dev_t, u_long, caddr_t, int, struct proc *)
#define dev_type_dump(n) int n(dev_t, daddr_t, caddr_t, size_t)
#define dev_type_size(n) daddr_t n(dev_t)
#define dev_type_read(n) int n(dev_t, struct uio *, int)
#define dev_type_write(n) int n(dev_t, struct uio *, int)
#define dev_type_stop(n) int n(struct tty *, int)
#define dev_type_tty(n) struct tty *n(dev_t)
#define dev_type_poll(n) int n(dev_t, int, struct proc *)
#define dev_type_mmap(n) paddr_t n(dev_t, off_t, int)
#define dev_type_kqfilter(n) int n(dev_t, struct knote *)

/* A placeholder (enodev, enxio, nullop, ...) as the entry point t: cast through void (*)(void),
 * which compilers accept between function types without a warning. */
#define __dev_fn(t, f) ((__CONCAT(dev_type_, t)((*)))(void (*)(void))(f))
#define dev_decl(n, t) __CONCAT(dev_type_, t)(__CONCAT(n, t))
/* With a count c > 0 (NFOO in OpenBSD's config), the driver's function; else enxio. */
#define dev_init(c, n, t) ((c) > 0 ? __CONCAT(n, t) : __dev_fn(t, enxio))
#define dev_size_init(c, n) ((c) > 0 ? __CONCAT(n, size) : 0)

#define bdev_decl(n) \
	dev_decl(n, open); dev_decl(n, close); dev_decl(n, strategy); \
	dev_decl(n, ioctl); dev_decl(n, dump); dev_decl(n, size)

#define cdev_decl(n) \
	dev_decl(n, open); dev_decl(n, close); dev_decl(n, read); \
	dev_decl(n, write); dev_decl(n, ioctl); dev_decl(n, stop); \
	dev_decl(n, tty); dev_decl(n, poll); dev_decl(n, mmap); \
	dev_decl(n, kqfilter)

/* Initialisers of a struct bdevsw, as OpenBSD 5.2's conf.h has them. */
#define bdev_disk_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), \
	dev_init(c, n, strategy), dev_init(c, n, ioctl), \
	dev_init(c, n, dump), dev_size_init(c, n), D_DISK }

#define bdev_tape_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), \
	dev_init(c, n, strategy), dev_init(c, n, ioctl), \
	dev_init(c, n, dump), 0, D_TAPE }

#define bdev_swap_init(c, n) { \
	__dev_fn(open, enodev), __dev_fn(close, enodev), \
	dev_init(c, n, strategy), __dev_fn(ioctl, enodev), \
	__dev_fn(dump, enodev), 0, 0 }

#define bdev_lkm_dummy() { \
	__dev_fn(open, lkmenodev), __dev_fn(close, enodev), \
	__dev_fn(strategy, enodev), __dev_fn(ioctl, enodev), \
	__dev_fn(dump, enodev), 0, 0 }

#define bdev_notdef() { \
	__dev_fn(open, enodev), __dev_fn(close, enodev), \
	__dev_fn(strategy, enodev), __dev_fn(ioctl, enodev), \
	__dev_fn(dump, enodev), 0, 0 }

/* Initialisers of a struct cdevsw (the entries each uses in its comment). */
/* open, close, read, write, ioctl */
#define cdev_disk_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	dev_init(c, n, write), dev_init(c, n, ioctl), __dev_fn(stop, enodev), \
	0, seltrue, __dev_fn(mmap, enodev), \
	D_DISK, D_KQFILTER, seltrue_kqfilter }

/* open, close, read, write, ioctl */
#define cdev_tape_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	dev_init(c, n, write), dev_init(c, n, ioctl), __dev_fn(stop, enodev), \
	0, seltrue, __dev_fn(mmap, enodev), \
	D_TAPE, D_KQFILTER, seltrue_kqfilter }

/* open, close, read, write, ioctl, mmap */
#define cdev_mm_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	dev_init(c, n, write), dev_init(c, n, ioctl), \
	__dev_fn(stop, enodev), 0, seltrue, dev_init(c, n, mmap), \
	0, D_KQFILTER, seltrue_kqfilter }

/* open, close, read, ioctl, poll */
#define cdev_mouse_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	__dev_fn(write, enodev), dev_init(c, n, ioctl), \
	__dev_fn(stop, enodev), 0, dev_init(c, n, poll), \
	__dev_fn(mmap, enodev), 0, 0, 0 }

/* open, close, read, write, ioctl, poll */
#define cdev_mousewr_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	dev_init(c, n, write), dev_init(c, n, ioctl), \
	__dev_fn(stop, enodev), 0, dev_init(c, n, poll), \
	__dev_fn(mmap, enodev), 0, 0, 0 }

/* open, close, read, ioctl, poll, kqfilter */
#define cdev_log_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	__dev_fn(write, enodev), dev_init(c, n, ioctl), \
	__dev_fn(stop, enodev), 0, dev_init(c, n, poll), \
	__dev_fn(mmap, enodev), 0, D_KQFILTER, dev_init(c, n, kqfilter) }

/* open, close, read, write, ioctl, poll, kqfilter */
#define cdev_tun_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	dev_init(c, n, write), dev_init(c, n, ioctl), __dev_fn(stop, enodev), \
	0, dev_init(c, n, poll), __dev_fn(mmap, enodev), \
	0, D_KQFILTER, dev_init(c, n, kqfilter) }

/* open, close, read, write, ioctl, poll, kqfilter */
#define cdev_random_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), dev_init(c, n, read), \
	dev_init(c, n, write), dev_init(c, n, ioctl), __dev_fn(stop, enodev), \
	0, seltrue, __dev_fn(mmap, enodev), \
	0, D_KQFILTER, seltrue_kqfilter }

/* open, close, ioctl */
#define cdev_lkm_init(c, n) { \
	dev_init(c, n, open), dev_init(c, n, close), __dev_fn(read, enodev), \
	__dev_fn(write, enodev), dev_init(c, n, ioctl), \
	__dev_fn(stop, enodev), 0, selfalse, \
	__dev_fn(mmap, enodev), 0, 0, 0 }

#define cdev_lkm_dummy() { \
	__dev_fn(open, lkmenodev), __dev_fn(close, enodev), \
	__dev_fn(read, enodev), __dev_fn(write, enodev), \
	__dev_fn(ioctl, enodev), __dev_fn(stop, enodev), \
	0, seltrue, __dev_fn(mmap, enodev), 0, 0, 0 }

#define cdev_notdef() { \
	__dev_fn(open, enodev), __dev_fn(close, enodev), \
	__dev_fn(read, enodev), __dev_fn(write, enodev), \
	__dev_fn(ioctl, enodev), __dev_fn(stop, enodev), \
	0, seltrue, __dev_fn(mmap, enodev), 0, 0, 0 }
#endif /* _KERNEL */

#endif /* !_SYS_CONF_H_ */
