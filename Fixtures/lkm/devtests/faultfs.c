/*
 * faultfs: a file system that misbehaves (OpenBSD 5.2's VFS, as kernfs). Its root directory
 * holds one file, "file"; reading it dereferences NULL. Looking up "bogus" returns a pointer
 * that is not a vnode.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/namei.h>
#include <sys/proc.h>
#include <sys/uio.h>
#include <sys/lkm.h>

static int (**faultfs_vnodeop_p)(void *);
static struct vnode *rootvp, *filevp;

static int
faultfs_mount(struct mount *mp, const char *path, void *data, struct nameidata *ndp,
    struct proc *p)
{
	int error;

	if ((error = getnewvnode(VT_NON, mp, faultfs_vnodeop_p, &rootvp)) != 0)
		return (error);
	rootvp->v_type = VDIR;
	rootvp->v_flag |= VROOT;
	if ((error = getnewvnode(VT_NON, mp, faultfs_vnodeop_p, &filevp)) != 0)
		return (error);
	filevp->v_type = VREG;
	return (0);
}

static int
faultfs_unmount(struct mount *mp, int mntflags, struct proc *p)
{
	return (vflush(mp, NULL, FORCECLOSE));
}

static int
faultfs_root(struct mount *mp, struct vnode **vpp)
{
	vref(rootvp);
	vn_lock(rootvp, LK_EXCLUSIVE | LK_RETRY, curproc);
	*vpp = rootvp;
	return (0);
}

static int
faultfs_lookup(void *v)
{
	struct vop_lookup_args *ap = v;
	struct componentname *cnp = ap->a_cnp;

	if (cnp->cn_namelen == 4 && memcmp(cnp->cn_nameptr, "file", 4) == 0) {
		vget(filevp, LK_EXCLUSIVE, cnp->cn_proc);
		*ap->a_vpp = filevp;
		return (0);
	}
	if (cnp->cn_namelen == 5 && memcmp(cnp->cn_nameptr, "bogus", 5) == 0) {
		*ap->a_vpp = (struct vnode *)0x1000;
		return (0);
	}
	return (ENOENT);
}

static int
faultfs_read(void *v)
{
	volatile int *null = NULL;

	return (*null);
}

static int
faultfs_getattr(void *v)
{
	struct vop_getattr_args *ap = v;

	vattr_null(ap->a_vap);
	ap->a_vap->va_type = ap->a_vp->v_type;
	ap->a_vap->va_mode = ap->a_vp->v_type == VDIR ? 0555 : 0444;
	ap->a_vap->va_nlink = 1;
	ap->a_vap->va_size = 0;
	ap->a_vap->va_fileid = ap->a_vp == rootvp ? 2 : 3;
	return (0);
}

static struct vnodeopv_entry_desc faultfs_entries[] = {
	{ &vop_default_desc, eopnotsupp },
	{ &vop_lookup_desc, faultfs_lookup },
	{ &vop_open_desc, nullop },
	{ &vop_close_desc, nullop },
	{ &vop_access_desc, nullop },
	{ &vop_getattr_desc, faultfs_getattr },
	{ &vop_read_desc, faultfs_read },
	{ &vop_inactive_desc, vop_generic_unlock },
	{ &vop_reclaim_desc, nullop },
	{ &vop_lock_desc, vop_generic_lock },
	{ &vop_unlock_desc, vop_generic_unlock },
	{ &vop_islocked_desc, vop_generic_islocked },
	{ NULL, NULL }
};
static struct vnodeopv_desc faultfs_opv_desc = { &faultfs_vnodeop_p, faultfs_entries };

static struct vfsops faultfs_vfsops = {
	faultfs_mount, 0, faultfs_unmount, faultfs_root, 0, 0, 0, 0, 0, 0, 0, 0, 0
};
static struct vfsconf faultfs_vfsconf = { &faultfs_vfsops, "faultfs", 98, 0, 0, NULL, 0 };

MOD_VFS("faultfs", -1, &faultfs_vfsconf)

static int
faultfs_load(struct lkm_table *lkmtp, int cmd)
{
	vfs_opv_init_explicit(&faultfs_opv_desc);
	vfs_opv_init_default(&faultfs_opv_desc);
	return (0);
}

int
faultfs_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, faultfs_load, lkm_nofunc, lkm_nofunc)
}
