/*
 * kernfs: a small kernel file system, one directory of read-only files showing kernel
 * variables (after OpenBSD 5.2's miscfs/kernfs): version, hostname (writable: sets
 * kern.hostname), time (seconds and microseconds since the epoch), msgbuf (the kernel message
 * buffer), hz and pagesize. File contents are made on each read.
 *
 * Written against OpenBSD 5.2's VFS: the vnode operations are a table of (descriptor,
 * function) pairs, kernfs_vnodeop_opv_desc, that the module's entry builds into the vector
 * kernfs_vnodeop_p with vfs_opv_init_explicit and vfs_opv_init_default, as share/lkm's
 * kernfsmod.c does. Lookups return vnodes referenced and locked; the vnodes of the files are
 * kept per mount and made again after the kernel reclaims one.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/namei.h>
#include <sys/proc.h>
#include <sys/uio.h>
#include <sys/dirent.h>
#include <sys/time.h>

/* The kernel's message buffer (an lkm export): copies it, returns its whole length. */
size_t msgbuf_copy(char *, size_t);

enum kfstype { KFSroot, KFSversion, KFShostname, KFStime, KFSmsgbuf, KFShz, KFSpagesize };

struct kern_target {
	u_char kt_type;		/* DT_* */
	const char *kt_name;
	enum kfstype kt_tag;
	mode_t kt_mode;
};

static const struct kern_target kern_targets[] = {
	{ DT_DIR, ".", KFSroot, 0555 },
	{ DT_DIR, "..", KFSroot, 0555 },
	{ DT_REG, "hostname", KFShostname, 0644 },
	{ DT_REG, "hz", KFShz, 0444 },
	{ DT_REG, "msgbuf", KFSmsgbuf, 0444 },
	{ DT_REG, "pagesize", KFSpagesize, 0444 },
	{ DT_REG, "time", KFStime, 0444 },
	{ DT_REG, "version", KFSversion, 0444 },
};
#define NTARGETS (sizeof(kern_targets) / sizeof(kern_targets[0]))

/* Per mount: the root vnode (held by the mount) and one vnode per file, made on first lookup
 * and forgotten when the kernel reclaims it. */
struct kernfs_mount {
	struct vnode *kf_root;
	struct vnode *kf_nodes[NTARGETS];
};

#define VFSTOKERNFS(mp) ((struct kernfs_mount *)((mp)->mnt_data))

int (**kernfs_vnodeop_p)(void *);

/* ---- File contents ---- */

/* Makes a file's contents: returns a malloc'd buffer and its length in *lenp. */
static char *
kernfs_xread(const struct kern_target *kt, size_t *lenp)
{
	char *buf;
	size_t len;

	if (kt->kt_tag == KFSmsgbuf) {
		len = msgbuf_copy(NULL, 0);
		buf = malloc(len + 1, M_TEMP, M_WAITOK);
		len = MIN(len, msgbuf_copy(buf, len));
		*lenp = len;
		return buf;
	}
	buf = malloc(512, M_TEMP, M_WAITOK);
	switch (kt->kt_tag) {
	case KFSversion:
		len = strlen(version);
		snprintf(buf, 512, "%s%s", version,
		    len > 0 && version[len - 1] == '\n' ? "" : "\n");
		break;
	case KFShostname:
		snprintf(buf, 512, "%s\n", hostname);
		break;
	case KFStime: {
		struct timeval tv;

		microtime(&tv);
		snprintf(buf, 512, "%lld %ld\n", (long long)tv.tv_sec, tv.tv_usec);
		break;
	}
	case KFShz:
		snprintf(buf, 512, "%d\n", hz);
		break;
	case KFSpagesize:
		snprintf(buf, 512, "%d\n", PAGE_SIZE);
		break;
	default:
		buf[0] = '\0';
		break;
	}
	*lenp = strlen(buf);
	return buf;
}

/* ---- VFS operations ---- */

static int
kernfs_mount(struct mount *mp, const char *path, void *data, struct nameidata *ndp,
    struct proc *p)
{
	struct kernfs_mount *kmp;
	struct vnode *rvp;
	int error;

	if (mp->mnt_flag & MNT_UPDATE)
		return (EOPNOTSUPP);
	kmp = malloc(sizeof(*kmp), M_TEMP, M_WAITOK | M_ZERO);
	if ((error = getnewvnode(VT_KERNFS, mp, kernfs_vnodeop_p, &rvp)) != 0) {
		free(kmp, M_TEMP);
		return (error);
	}
	rvp->v_type = VDIR;
	rvp->v_flag |= VROOT;
	rvp->v_data = (void *)&kern_targets[0];
	kmp->kf_root = rvp;
	mp->mnt_data = kmp;
	mp->mnt_flag |= MNT_LOCAL;
	return (0);
}

static int
kernfs_start(struct mount *mp, int flags, struct proc *p)
{
	return (0);
}

/* Flushes the files' vnodes, then lets go of the root. */
static int
kernfs_unmount(struct mount *mp, int mntflags, struct proc *p)
{
	struct kernfs_mount *kmp = VFSTOKERNFS(mp);
	struct vnode *rvp = kmp->kf_root;
	int error, flags = 0;

	if (mntflags & MNT_FORCE)
		flags |= FORCECLOSE;
	if ((error = vflush(mp, rvp, flags)) != 0)
		return (error);
	if (rvp->v_usecount > 1 && !(mntflags & MNT_FORCE))
		return (EBUSY);
	vgone(rvp);
	vrele(rvp);
	free(kmp, M_TEMP);
	mp->mnt_data = NULL;
	return (0);
}

/* The root, referenced and locked. */
static int
kernfs_root(struct mount *mp, struct vnode **vpp)
{
	struct vnode *vp = VFSTOKERNFS(mp)->kf_root;

	vref(vp);
	vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, curproc);
	*vpp = vp;
	return (0);
}

static int
kernfs_statfs(struct mount *mp, struct statfs *sbp, struct proc *p)
{
	sbp->f_bsize = PAGE_SIZE;
	sbp->f_iosize = PAGE_SIZE;
	sbp->f_blocks = 2;
	sbp->f_bfree = 0;
	sbp->f_bavail = 0;
	sbp->f_files = NTARGETS - 1;
	sbp->f_ffree = 0;
	sbp->f_namemax = MAXNAMLEN;
	return (0);
}

static int
kernfs_init(struct vfsconf *vfsp)
{
	return (0);
}

struct vfsops kernfs_vfsops = {
	kernfs_mount,
	kernfs_start,
	kernfs_unmount,
	kernfs_root,
	0,		/* quotactl */
	kernfs_statfs,
	0,		/* sync */
	0,		/* vget */
	0,		/* fhtovp */
	0,		/* vptofh */
	kernfs_init,
	0,		/* sysctl */
	0		/* checkexp */
};

/* ---- Vnode operations ---- */

static int
kernfs_lookup(void *v)
{
	struct vop_lookup_args *ap = v;
	struct componentname *cnp = ap->a_cnp;
	struct vnode *dvp = ap->a_dvp;
	struct kernfs_mount *kmp = VFSTOKERNFS(dvp->v_mount);
	struct proc *p = cnp->cn_proc;
	struct vnode *vp;
	size_t i;
	int error;

	*ap->a_vpp = NULL;
	if (dvp != kmp->kf_root)
		return (ENOTDIR);
	if ((cnp->cn_flags & ISLASTCN) &&
	    (cnp->cn_nameiop == DELETE || cnp->cn_nameiop == RENAME))
		return (EROFS);
	/* "." and "..": the root itself (".." of a mount's root is the kernel's). */
	if (cnp->cn_namelen == 1 && cnp->cn_nameptr[0] == '.') {
		vref(dvp);
		*ap->a_vpp = dvp;
		return (0);
	}
	for (i = 2; i < NTARGETS; i++) {
		if (strlen(kern_targets[i].kt_name) != (size_t)cnp->cn_namelen ||
		    memcmp(kern_targets[i].kt_name, cnp->cn_nameptr, cnp->cn_namelen) != 0)
			continue;
		if ((vp = kmp->kf_nodes[i]) != NULL) {
			if ((error = vget(vp, LK_EXCLUSIVE, p)) != 0)
				return (error);
		} else {
			error = getnewvnode(VT_KERNFS, dvp->v_mount, kernfs_vnodeop_p, &vp);
			if (error)
				return (error);
			vp->v_type = VREG;
			vp->v_data = (void *)&kern_targets[i];
			kmp->kf_nodes[i] = vp;
			vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, p);
		}
		*ap->a_vpp = vp;
		return (0);
	}
	return ((cnp->cn_flags & ISLASTCN) && cnp->cn_nameiop == CREATE ? EROFS : ENOENT);
}

static int
kernfs_open(void *v)
{
	return (0);
}

static int
kernfs_access(void *v)
{
	struct vop_access_args *ap = v;
	const struct kern_target *kt = ap->a_vp->v_data;

	return (vaccess(ap->a_vp->v_type, kt->kt_mode, 0, 0, ap->a_mode, ap->a_cred));
}

static int
kernfs_getattr(void *v)
{
	struct vop_getattr_args *ap = v;
	const struct kern_target *kt = ap->a_vp->v_data;
	struct vattr *vap = ap->a_vap;
	char *buf;
	size_t len;

	vattr_null(vap);
	vap->va_uid = 0;
	vap->va_gid = 0;
	vap->va_fsid = 0;
	vap->va_blocksize = PAGE_SIZE;
	vap->va_mtime.tv_sec = time_second;
	vap->va_mtime.tv_nsec = 0;
	vap->va_atime = vap->va_ctime = vap->va_mtime;
	vap->va_gen = 0;
	vap->va_flags = 0;
	vap->va_rdev = 0;
	vap->va_mode = kt->kt_mode;
	vap->va_fileid = 2 + (kt - kern_targets);
	if (kt->kt_tag == KFSroot) {
		vap->va_type = VDIR;
		vap->va_nlink = 2;
		vap->va_fileid = 2;
		vap->va_size = DIRENT_RECSIZE(8) * NTARGETS;
	} else {
		vap->va_type = VREG;
		vap->va_nlink = 1;
		buf = kernfs_xread(kt, &len);
		free(buf, M_TEMP);
		vap->va_size = len;
	}
	vap->va_bytes = vap->va_size;
	return (0);
}

/* Only the size of hostname may be set (to 0, by an open with O_TRUNC). */
static int
kernfs_setattr(void *v)
{
	struct vop_setattr_args *ap = v;
	const struct kern_target *kt = ap->a_vp->v_data;
	struct vattr *vap = ap->a_vap;

	if (vap->va_flags != VNOVAL || vap->va_uid != (uid_t)VNOVAL ||
	    vap->va_gid != (gid_t)VNOVAL || vap->va_mode != (mode_t)VNOVAL)
		return (EPERM);
	if (vap->va_size != (u_int64_t)VNOVAL && kt->kt_tag != KFShostname)
		return (EPERM);
	return (0);
}

static int
kernfs_read(void *v)
{
	struct vop_read_args *ap = v;
	struct uio *uio = ap->a_uio;
	const struct kern_target *kt = ap->a_vp->v_data;
	char *buf;
	size_t len;
	int error = 0;

	if (ap->a_vp->v_type == VDIR)
		return (EOPNOTSUPP);
	if (uio->uio_offset < 0)
		return (EINVAL);
	buf = kernfs_xread(kt, &len);
	if ((size_t)uio->uio_offset < len)
		error = uiomove(buf + uio->uio_offset, len - uio->uio_offset, uio);
	free(buf, M_TEMP);
	return (error);
}

/* Only hostname is writable, from its start; a trailing newline is dropped. */
static int
kernfs_write(void *v)
{
	struct vop_write_args *ap = v;
	struct uio *uio = ap->a_uio;
	const struct kern_target *kt = ap->a_vp->v_data;
	char strbuf[MAXHOSTNAMELEN];
	size_t xlen;
	int error;

	if (kt->kt_tag != KFShostname)
		return (EIO);
	if (uio->uio_offset != 0)
		return (EINVAL);
	xlen = MIN(uio->uio_resid, sizeof(strbuf) - 1);
	if ((error = uiomove(strbuf, xlen, uio)) != 0)
		return (error);
	if (uio->uio_resid != 0)
		return (EIO);
	if (xlen > 0 && strbuf[xlen - 1] == '\n')
		--xlen;
	strbuf[xlen] = '\0';
	strlcpy(hostname, strbuf, MAXHOSTNAMELEN);
	return (0);
}

/* One struct dirent per target; the uio offset counts entries. */
static int
kernfs_readdir(void *v)
{
	struct vop_readdir_args *ap = v;
	struct uio *uio = ap->a_uio;
	struct dirent d;
	off_t i;
	int error = 0;

	if (ap->a_vp->v_type != VDIR)
		return (ENOTDIR);
	for (i = uio->uio_offset; i < (off_t)NTARGETS; i++) {
		const struct kern_target *kt = &kern_targets[i];

		bzero(&d, sizeof(d));
		d.d_namlen = strlen(kt->kt_name);
		d.d_reclen = DIRENT_RECSIZE(d.d_namlen);
		if (uio->uio_resid < d.d_reclen)
			break;
		d.d_fileno = 2 + i;
		d.d_off = i + 1;
		d.d_type = kt->kt_type;
		memcpy(d.d_name, kt->kt_name, d.d_namlen + 1);
		/* uiomove advances uio_offset by bytes: set it to the entry count after. */
		if ((error = uiomove(&d, d.d_reclen, uio)) != 0)
			break;
		uio->uio_offset = i + 1;
	}
	if (i == (off_t)NTARGETS)
		*ap->a_eofflag = 1;
	return (error);
}

static int
kernfs_inactive(void *v)
{
	struct vop_inactive_args *ap = v;

	VOP_UNLOCK(ap->a_vp, 0, ap->a_p);
	return (0);
}

/* The kernel takes the vnode: forget it, a later lookup makes another. */
static int
kernfs_reclaim(void *v)
{
	struct vop_reclaim_args *ap = v;
	struct vnode *vp = ap->a_vp;
	const struct kern_target *kt = vp->v_data;
	struct kernfs_mount *kmp = VFSTOKERNFS(vp->v_mount);

	if (kmp != NULL && kt != NULL && kt != &kern_targets[0] &&
	    kmp->kf_nodes[kt - kern_targets] == vp)
		kmp->kf_nodes[kt - kern_targets] = NULL;
	vp->v_data = NULL;
	return (0);
}

/* The operations, as OpenBSD 5.2's kernfs_vnops.c lists them. */
struct vnodeopv_entry_desc kernfs_vnodeop_entries[] = {
	{ &vop_default_desc, eopnotsupp },
	{ &vop_lookup_desc, kernfs_lookup },
	{ &vop_open_desc, kernfs_open },
	{ &vop_close_desc, nullop },
	{ &vop_access_desc, kernfs_access },
	{ &vop_getattr_desc, kernfs_getattr },
	{ &vop_setattr_desc, kernfs_setattr },
	{ &vop_read_desc, kernfs_read },
	{ &vop_write_desc, kernfs_write },
	{ &vop_fsync_desc, nullop },
	{ &vop_readdir_desc, kernfs_readdir },
	{ &vop_abortop_desc, vop_generic_abortop },
	{ &vop_inactive_desc, kernfs_inactive },
	{ &vop_reclaim_desc, kernfs_reclaim },
	{ &vop_lock_desc, vop_generic_lock },
	{ &vop_unlock_desc, vop_generic_unlock },
	{ &vop_islocked_desc, vop_generic_islocked },
	{ &vop_bmap_desc, vop_generic_bmap },
	{ &vop_revoke_desc, vop_generic_revoke },
	{ NULL, NULL }
};
struct vnodeopv_desc kernfs_vnodeop_opv_desc =
	{ &kernfs_vnodeop_p, kernfs_vnodeop_entries };
