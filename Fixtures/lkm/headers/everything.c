/* Includes every header of the kernel's include directory, for the header tests: compiled with
 * -nostdinc (nothing of the C library is needed), as C and as C++, it checks that each stands
 * on its own and that ioctl commands have OpenBSD's encoding. */
#include <sys/types.h>
#include <sys/cdefs.h>
#include <sys/param.h>
#include <sys/errno.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/ioctl.h>
#include <sys/ioccom.h>
#include <sys/filio.h>
#include <sys/file.h>
#include <sys/fcntl.h>
#include <sys/stat.h>
#include <sys/stdarg.h>
#include <sys/limits.h>
#include <sys/syslog.h>
#include <sys/msgbuf.h>
#include <sys/malloc.h>
#include <sys/proc.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/buf.h>
#include <sys/conf.h>
#include <sys/dirent.h>
#include <sys/exec.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/syscall.h>
#include <sys/lkm.h>
#include <sys/timeout.h>
#include <sys/ucred.h>
#include <sys/pool.h>
#include <machine/intr.h>
#include <lib/libkern/libkern.h>
#include <dev/rndvar.h>

/* OpenBSD's encoding: direction in the top three bits (IOC_IN 0x80000000), 13 bits of length. */
_Static_assert(_IOW('r', 1, int) == 0x80047201UL, "_IOW('r', 1, int)");
_Static_assert(_IOR('r', 2, long) == 0x40087202UL, "_IOR('r', 2, long)");
_Static_assert(_IOWR('K', 11, struct lmc_stat) == 0xc0404b0bUL, "LMSTAT");
_Static_assert(LMRESERV == 0xc0484b04UL, "LMRESERV");
_Static_assert(FIONREAD == 0x4004667fUL, "FIONREAD");
_Static_assert(sizeof(struct lkm_table) == 128, "struct lkm_table");
_Static_assert(sizeof(struct sysent) == 16, "struct sysent");
_Static_assert(FREAD == 1 && FWRITE == 2, "FREAD, FWRITE");
_Static_assert(sizeof(struct proc) == 40 && __builtin_offsetof(struct proc, p_ucred) == 32, "struct proc");
_Static_assert(sizeof(struct ucred) == 80 && __builtin_offsetof(struct ucred, cr_groups) == 16, "struct ucred");
_Static_assert(sizeof(struct pool) == 200 && __builtin_offsetof(struct pool, pr_nget) == 144, "struct pool");
_Static_assert(D_TAPE == 1 && D_DISK == 2 && D_TTY == 3, "d_type");

/* OpenBSD's declaration macros of a driver's entry points and its switch initialisers. */
cdev_decl(every);
bdev_decl(every);
static const struct cdevsw every_cdevsw = cdev_disk_init(1, every);
static const struct cdevsw none_cdevsw = cdev_notdef();
static const struct bdevsw every_bdevsw = bdev_disk_init(1, every);
static const struct bdevsw lkm_bdevsw = bdev_lkm_dummy();

/* Every function the kernel exports, called once: an undeclared one fails to compile. */
int use_everything(struct proc *p, struct uio *uio, struct buf *bp, char *s, va_list ap);
int use_everything(struct proc *p, struct uio *uio, struct buf *bp, char *s, va_list ap)
{
	char buf[16];
	struct timeval tv;
	struct timespec ts;
	struct vnode *vp;
	struct vattr va;
	struct timeout to;
	struct pool pl;
	struct ucred *cr;
	int s0;
	register_t rv;
	size_t done;
	void *m = malloc(16, M_TEMP, M_WAITOK | M_ZERO);
	free(m, M_TEMP);
	printf("%d", 1);
	vprintf("%d", ap);
	uprintf("%s", s);
	snprintf(buf, sizeof buf, "%d", 2);
	vsnprintf(buf, sizeof buf, "%d", ap);
	log(LOG_INFO, "%s", s);
	puts(s);
	putchar('x');
	memcpy(buf, s, 1);
	memmove(buf, s, 1);
	memset(buf, 0, sizeof buf);
	bcopy(s, buf, 1);
	bzero(buf, sizeof buf);
	done = strlen(s) + (size_t)memcmp(buf, s, 1) + (size_t)strcmp(buf, s) +
	    (size_t)strncmp(buf, s, 1) + strlcpy(buf, s, sizeof buf) + strlcat(buf, s, sizeof buf);
	if (strchr(s, 'a') == NULL || strrchr(s, 'b') == NULL)
		done++;
	copyin(s, buf, 1);
	copyout(buf, s, 1);
	copyinstr(s, buf, sizeof buf, &done);
	copyoutstr(s, buf, sizeof buf, &done);
	done += (size_t)kcopy(s, buf, 1);
	strncpy(buf, s, sizeof buf);
	done += strnlen(s, 4) + (size_t)bcmp(buf, s, 1) + (size_t)ffs(8);
	done += (size_t)timingsafe_bcmp(buf, s, 1) + (size_t)strncasecmp(buf, s, 2);
	if (memchr(s, 'c', 2) == NULL)
		done++;
	arc4random_buf(buf, sizeof buf);
	done += arc4random() + arc4random_uniform(6);
	pool_init(&pl, 32, 0, 0, 0, "everypl", &pool_allocator_nointr);
	pool_setlowat(&pl, 1);
	pool_sethiwat(&pl, 8);
	done += (size_t)pool_sethardlimit(&pl, 4, "everypl: full", 1);
	m = pool_get(&pl, PR_WAITOK | PR_ZERO);
	pool_put(&pl, m);
	pool_destroy(&pl);
	cr = crget();
	crhold(cr);
	crfree(cr);
	cr = crcopy(crdup(cr));
	done += (size_t)(suser(p, 0) + suser_ucred(cr));
	crfree(cr);
	done += (size_t)(enxio() + seltrue(0, 1, p) + selfalse(0, 1, p) + seltrue_kqfilter(0, NULL));
	done += (size_t)(every_cdevsw.d_type + none_cdevsw.d_type + every_bdevsw.d_type + lkm_bdevsw.d_type);
	uiomove(buf, 1, uio);
	biodone(bp);
	microtime(&tv);
	nanotime(&ts);
	getmicrotime(&tv);
	getnanotime(&ts);
	microuptime(&tv);
	nanouptime(&ts);
	getmicrouptime(&tv);
	getnanouptime(&ts);
	done += (size_t)time_uptime;
	getnewvnode(VT_NON, NULL, NULL, &vp);
	vattr_null(&va);
	done += msgbuf_copy(buf, sizeof buf);
	nosys(p, NULL, &rv);
	sys_lkmnosys(p, NULL, &rv);
	nullop(NULL);
	enodev();
	lkmenodev();
	eopnotsupp(NULL);
	lkm_nofunc(NULL, 0);
	lkmdispatch(NULL, 0);
	lkmexists(NULL);
	lkm_list(NULL);
	done += (size_t)(hz + securelevel + nsysent + nblkdev + nchrdev + nexecs + exec_maxhdrsz);
	done += (size_t)(time_second + hostname[0] + version[0]);
	done += (size_t)(sysent[0].sy_narg + bdevsw[0].d_type + cdevsw[0].d_type + execsw[0].es_hdrsz);
	done += imax(1, 2) + min(1, 2);
	done += (size_t)(tsleep(&done, PZERO | PCATCH, "all", hz) + ticks);
	wakeup(&done);
	wakeup_one(&done);
	timeout_set(&to, NULL, NULL);
	done += (size_t)(timeout_add(&to, 1) + timeout_add_sec(&to, 1) + timeout_add_msec(&to, 1));
	done += (size_t)(timeout_add_usec(&to, 1) + timeout_add_nsec(&to, 1) + timeout_del(&to));
	s0 = splhigh();
	splx(splclock() + splstatclock() + splvm() + spltty() + splnet() + splbio() + splsoftnet() +
	    splsoftclock() + spl0() + s0);
	if (done == 0)
		panic("%s", s);
	return (int)done;
}
