/* A file system module "dupfs" whose file system type is named "kernfs", like kernfs's. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/lkm.h>

static int
dup_root(struct mount *mp, struct vnode **vpp)
{
	return (EIO);
}

static struct vfsops dup_vfsops = { 0, 0, 0, dup_root, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
static struct vfsconf dup_vfsconf = { &dup_vfsops, "kernfs", 99, 0, 0, NULL, 0 };

MOD_VFS("dupfs", -1, &dup_vfsconf)

int
dupfs_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
