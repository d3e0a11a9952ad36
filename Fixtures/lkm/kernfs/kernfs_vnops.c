/*
 * kernfs: a small kernel file system, one directory of read-only files showing kernel
 * variables (after OpenBSD's miscfs/kernfs): version, hostname (writable: sets kern.hostname),
 * time (seconds and microseconds since the epoch), msgbuf (the kernel message buffer), hz and
 * pagesize. File contents are made on each read.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/mount.h>
#include <sys/vnode.h>
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

/* Per mount: the root vnode and one vnode per file, made on first lookup. */
struct kernfs_mount {
	struct vnode *kf_root;
	struct vnode *kf_nodes[NTARGETS];
};

#define VFSTOKERNFS(mp) ((struct kernfs_mount *)((mp)->mnt_data))

struct vops kernfs_vops;

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

	kmp = malloc(sizeof(*kmp), M_TEMP, M_WAITOK | M_ZERO);
	if ((error = getnewvnode(VT_KERNFS, mp, &kernfs_vops, &rvp)) != 0) {
		free(kmp, M_TEMP);
		return (error);
	}
	rvp->v_type = VDIR;
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

/* The kernel reclaims and frees the vnodes after this. */
static int
kernfs_unmount(struct mount *mp, int mntflags, struct proc *p)
{
	free(VFSTOKERNFS(mp), M_TEMP);
	mp->mnt_data = NULL;
	return (0);
}

static int
kernfs_root(struct mount *mp, struct vnode **vpp)
{
	*vpp = VFSTOKERNFS(mp)->kf_root;
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
	0,		/* statfs */
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
	struct kernfs_mount *kmp = VFSTOKERNFS(ap->a_dvp->v_mount);
	struct vnode *vp;
	size_t i;
	int error;

	if (ap->a_dvp != kmp->kf_root)
		return (ENOTDIR);
	for (i = 2; i < NTARGETS; i++) {
		if (strcmp(kern_targets[i].kt_name, cnp->cn_nameptr) != 0)
			continue;
		if (kmp->kf_nodes[i] == NULL) {
			error = getnewvnode(VT_KERNFS, ap->a_dvp->v_mount, &kernfs_vops, &vp);
			if (error)
				return (error);
			vp->v_type = VREG;
			vp->v_data = (void *)&kern_targets[i];
			kmp->kf_nodes[i] = vp;
		}
		*ap->a_vpp = kmp->kf_nodes[i];
		return (0);
	}
	return (ENOENT);
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
	vap->va_mtime.tv_sec = time_second;
	vap->va_mtime.tv_nsec = 0;
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
kernfs_reclaim(void *v)
{
	struct vop_reclaim_args *ap = v;

	ap->a_vp->v_data = NULL;
	return (0);
}

/* Called from the module's entry on every call, as OpenBSD's kernfsmod did. */
void
kernfs_init_vops(void)
{
	kernfs_vops.vop_create = NULL;
	kernfs_vops.vop_getattr = kernfs_getattr;
	kernfs_vops.vop_lookup = kernfs_lookup;
	kernfs_vops.vop_read = kernfs_read;
	kernfs_vops.vop_readdir = kernfs_readdir;
	kernfs_vops.vop_reclaim = kernfs_reclaim;
	kernfs_vops.vop_write = kernfs_write;
}
