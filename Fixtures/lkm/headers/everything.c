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
#include <sys/filedesc.h>
#include <sys/syscallargs.h>
#include <sys/select.h>
#include <sys/specdev.h>
#include <sys/namei.h>
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
_Static_assert(sizeof(struct proc) == 48 && __builtin_offsetof(struct proc, p_ucred) == 32 &&
    __builtin_offsetof(struct proc, p_fd) == 40, "struct proc");
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

/* The VFS, descriptors and system calls of OpenBSD 5.2 the kernel exports: each used once. */
int everything_vfs(struct proc *p, struct vnode *vp, struct selinfo *sip);
int
everything_vfs(struct proc *p, struct vnode *vp, struct selinfo *sip)
{
	register_t rv[2];
	struct nameidata nd;
	struct file *fp = NULL;
	int n = 0;

	n += sys_read(p, NULL, rv);
	n += sys_write(p, NULL, rv);
	n += sys_open(p, NULL, rv);
	n += sys_close(p, NULL, rv);
	n += sys_link(p, NULL, rv);
	n += sys_unlink(p, NULL, rv);
	n += sys_mknod(p, NULL, rv);
	n += sys_chmod(p, NULL, rv);
	n += sys_chown(p, NULL, rv);
	n += sys_getpid(p, NULL, rv);
	n += sys_mount(p, NULL, rv);
	n += sys_unmount(p, NULL, rv);
	n += sys_getuid(p, NULL, rv);
	n += sys_geteuid(p, NULL, rv);
	n += sys_access(p, NULL, rv);
	n += sys_stat(p, NULL, rv);
	n += sys_lstat(p, NULL, rv);
	n += sys_getegid(p, NULL, rv);
	n += sys_getgid(p, NULL, rv);
	n += sys_fstat(p, NULL, rv);
	n += sys_ioctl(p, NULL, rv);
	n += sys_symlink(p, NULL, rv);
	n += sys_readlink(p, NULL, rv);
	n += sys_getfsstat(p, NULL, rv);
	n += sys_statfs(p, NULL, rv);
	n += sys_utimes(p, NULL, rv);
	n += sys_fcntl(p, NULL, rv);
	n += sys_fsync(p, NULL, rv);
	n += sys_getdents(p, NULL, rv);
	n += sys_rename(p, NULL, rv);
	n += sys_mkdir(p, NULL, rv);
	n += sys_rmdir(p, NULL, rv);
	n += sys_pread(p, NULL, rv);
	n += sys_pwrite(p, NULL, rv);
	n += sys_lseek(p, NULL, rv);
	n += sys_truncate(p, NULL, rv);
	n += sys_ftruncate(p, NULL, rv);
	n += sys___sysctl(p, NULL, rv);
	n += sys_poll(p, NULL, rv);
	n += spec_open(NULL);
	n += spec_close(NULL);
	n += spec_read(NULL);
	n += spec_write(NULL);
	n += spec_ioctl(NULL);
	n += spec_poll(NULL);
	n += spec_fsync(NULL);
	n += spec_inactive(NULL);
	n += spec_reclaim(NULL);
	n += vop_generic_islocked(NULL);
	n += vop_generic_lock(NULL);
	n += vop_generic_unlock(NULL);
	n += vop_generic_abortop(NULL);
	n += vop_generic_bmap(NULL);
	n += vop_generic_revoke(NULL);
	n += vop_generic_kqfilter(NULL);
	n += vn_default_error(NULL);
	n += VOP_ISLOCKED(NULL);
	n += VOP_LOOKUP(NULL, NULL, NULL);
	n += VOP_CREATE(NULL, NULL, NULL, NULL);
	n += VOP_MKNOD(NULL, NULL, NULL, NULL);
	n += VOP_OPEN(NULL, 0, NULL, NULL);
	n += VOP_CLOSE(NULL, 0, NULL, NULL);
	n += VOP_ACCESS(NULL, 0, NULL, NULL);
	n += VOP_GETATTR(NULL, NULL, NULL, NULL);
	n += VOP_SETATTR(NULL, NULL, NULL, NULL);
	n += VOP_READ(NULL, NULL, 0, NULL);
	n += VOP_WRITE(NULL, NULL, 0, NULL);
	n += VOP_IOCTL(NULL, 0, NULL, 0, NULL, NULL);
	n += VOP_POLL(NULL, 0, NULL);
	n += VOP_KQFILTER(NULL, NULL);
	n += VOP_REVOKE(NULL, 0);
	n += VOP_FSYNC(NULL, NULL, 0, NULL);
	n += VOP_REMOVE(NULL, NULL, NULL);
	n += VOP_LINK(NULL, NULL, NULL);
	n += VOP_RENAME(NULL, NULL, NULL, NULL, NULL, NULL);
	n += VOP_MKDIR(NULL, NULL, NULL, NULL);
	n += VOP_RMDIR(NULL, NULL, NULL);
	n += VOP_SYMLINK(NULL, NULL, NULL, NULL, NULL);
	n += VOP_READDIR(NULL, NULL, NULL, NULL, NULL, NULL);
	n += VOP_READLINK(NULL, NULL, NULL);
	n += VOP_ABORTOP(NULL, NULL);
	n += VOP_INACTIVE(NULL, NULL);
	n += VOP_RECLAIM(NULL, NULL);
	n += VOP_LOCK(NULL, 0, NULL);
	n += VOP_UNLOCK(NULL, 0, NULL);
	n += VOP_BMAP(NULL, 0, NULL, NULL, NULL);
	n += VOP_PRINT(NULL);
	n += VOP_PATHCONF(NULL, 0, NULL);
	n += VOP_ADVLOCK(NULL, NULL, 0, NULL, 0);
	n += VOP_STRATEGY(NULL);
	n += VOP_BWRITE(NULL);
	n += (vop_default_desc.vdesc_offset + vop_islocked_desc.vdesc_offset + vop_lookup_desc.vdesc_offset + vop_create_desc.vdesc_offset + vop_mknod_desc.vdesc_offset + vop_open_desc.vdesc_offset + vop_close_desc.vdesc_offset + vop_access_desc.vdesc_offset + vop_getattr_desc.vdesc_offset + vop_setattr_desc.vdesc_offset + vop_read_desc.vdesc_offset + vop_write_desc.vdesc_offset + vop_ioctl_desc.vdesc_offset + vop_poll_desc.vdesc_offset + vop_kqfilter_desc.vdesc_offset + vop_revoke_desc.vdesc_offset + vop_fsync_desc.vdesc_offset + vop_remove_desc.vdesc_offset + vop_link_desc.vdesc_offset + vop_rename_desc.vdesc_offset + vop_mkdir_desc.vdesc_offset + vop_rmdir_desc.vdesc_offset + vop_symlink_desc.vdesc_offset + vop_readdir_desc.vdesc_offset + vop_readlink_desc.vdesc_offset + vop_abortop_desc.vdesc_offset + vop_inactive_desc.vdesc_offset + vop_reclaim_desc.vdesc_offset + vop_lock_desc.vdesc_offset + vop_unlock_desc.vdesc_offset + vop_bmap_desc.vdesc_offset + vop_print_desc.vdesc_offset + vop_pathconf_desc.vdesc_offset + vop_advlock_desc.vdesc_offset + vop_strategy_desc.vdesc_offset + vop_bwrite_desc.vdesc_offset);
	n += vfs_opv_numops + (rootvnode != NULL) + (vfs_byname("x") != NULL);
	vfs_opv_init_explicit(NULL);
	vfs_opv_init_default(NULL);
	vref(vp);
	n += vget(vp, LK_EXCLUSIVE, p);
	vrele(vp);
	vput(vp);
	n += vn_lock(vp, LK_EXCLUSIVE, p);
	vgone(vp);
	n += vaccess(VREG, 0644, 0, 0, VREAD, NULL);
	n += vflush(NULL, NULL, 0);
	n += (checkalias(vp, 0, NULL) != NULL);
	n += namei(&nd) + vfs_lookup(&nd);
	n += getvnode(p, 0, &fp);
	fp = fd_getfile(NULL, 0);
	FREF(fp);
	n += FRELE(fp, p);
	selrecord(p, sip);
	selwakeup(sip);
	n += (lkm_curproc() == p);
	return n;
}
