/*
 * faultfs: a file system that misbehaves. Its root directory holds one file, "file"; reading
 * it dereferences NULL. Looking up "bogus" returns a pointer that is not a vnode.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/uio.h>
#include <sys/lkm.h>

static struct vops faultfs_vops;
static struct vnode *rootvp, *filevp;

static int
faultfs_mount(struct mount *mp, const char *path, void *data, struct nameidata *ndp,
    struct proc *p)
{
	int error;

	if ((error = getnewvnode(VT_NON, mp, &faultfs_vops, &rootvp)) != 0)
		return (error);
	rootvp->v_type = VDIR;
	if ((error = getnewvnode(VT_NON, mp, &faultfs_vops, &filevp)) != 0)
		return (error);
	filevp->v_type = VREG;
	return (0);
}

static int
faultfs_root(struct mount *mp, struct vnode **vpp)
{
	*vpp = rootvp;
	return (0);
}

static int
faultfs_lookup(void *v)
{
	struct vop_lookup_args *ap = v;

	if (strcmp(ap->a_cnp->cn_nameptr, "file") == 0) {
		*ap->a_vpp = filevp;
		return (0);
	}
	if (strcmp(ap->a_cnp->cn_nameptr, "bogus") == 0) {
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

static struct vfsops faultfs_vfsops = {
	faultfs_mount, 0, 0, faultfs_root, 0, 0, 0, 0, 0, 0, 0, 0, 0
};
static struct vfsconf faultfs_vfsconf = { &faultfs_vfsops, "faultfs", 98, 0, 0, NULL, 0 };

MOD_VFS("faultfs", -1, &faultfs_vfsconf)

static int
faultfs_load(struct lkm_table *lkmtp, int cmd)
{
	faultfs_vops.vop_lookup = faultfs_lookup;
	faultfs_vops.vop_read = faultfs_read;
	return (0);
}

int
faultfs_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, faultfs_load, lkm_nofunc, lkm_nofunc)
}
