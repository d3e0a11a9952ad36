/*
 * memfs: the module and its vfsops. Load, mount and use it with
 *
 *	modload -e memfsmod memfs_vfsops.o memfs_vnops.o
 *	lkmctl mount memfs /mem
 *	lkmctl write /mem/hello 'hello, memfs'
 *	lkmctl ls -l /mem
 *	lkmctl mount --host /mnt/mem memfs /mem	(the same files on the host, through FUSE)
 *
 * and unload with lkmctl umount /mem, then modunload -n memfs (EBUSY while it is mounted).
 * Every mount is a file system of its own; unmounting frees its files.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/time.h>
#include <sys/proc.h>
#include <sys/lkm.h>

#include "memfs.h"

static int
memfs_mount(struct mount *mp, const char *path, void *data, struct nameidata *ndp,
    struct proc *p)
{
	struct memfs_mount *mm;

	mm = malloc(sizeof(*mm), M_TEMP, M_WAITOK | M_CANFAIL | M_ZERO);
	if (mm == NULL)
		return (ENOMEM);
	mm->mm_mount = mp;
	mm->mm_nextino = 2;
	mm->mm_root = memfs_node_alloc(mm, NULL, "", 0, VDIR, 0755, p != NULL ? p->p_uid : 0);
	if (mm->mm_root == NULL) {
		free(mm, M_TEMP);
		return (ENOMEM);
	}
	mp->mnt_data = mm;
	mp->mnt_flag |= MNT_LOCAL;
	return (0);
}

static int
memfs_start(struct mount *mp, int flags, struct proc *p)
{
	return (0);
}

/*
 * Every vnode of the mount must be unused (EBUSY otherwise, unless forced); then the whole
 * tree goes.
 */
static int
memfs_unmount(struct mount *mp, int mntflags, struct proc *p)
{
	struct memfs_mount *mm = VFSTOMEMFS(mp);
	int error, flags = 0;

	if (mntflags & MNT_FORCE)
		flags |= FORCECLOSE;
	if ((error = vflush(mp, NULL, flags)) != 0)
		return (error);
	memfs_tree_free(mm->mm_root);
	mp->mnt_data = NULL;
	free(mm, M_TEMP);
	return (0);
}

static int
memfs_root(struct mount *mp, struct vnode **vpp)
{
	return (memfs_node_vget(VFSTOMEMFS(mp)->mm_root, vpp));
}

static int
memfs_statfs(struct mount *mp, struct statfs *sbp, struct proc *p)
{
	struct memfs_mount *mm = VFSTOMEMFS(mp);

	sbp->f_bsize = MEMFS_BSIZE;
	sbp->f_iosize = MEMFS_BSIZE;
	sbp->f_blocks = MEMFS_MAXBYTES / MEMFS_BSIZE;
	sbp->f_bfree = (MEMFS_MAXBYTES - mm->mm_bytes) / MEMFS_BSIZE;
	sbp->f_bavail = sbp->f_bfree;
	sbp->f_files = MEMFS_MAXNODES;
	sbp->f_ffree = MEMFS_MAXNODES - mm->mm_nodes;
	sbp->f_favail = sbp->f_ffree;
	sbp->f_namemax = MAXNAMLEN;
	return (0);
}

static int
memfs_sync(struct mount *mp, int waitfor, struct ucred *cred, struct proc *p)
{
	return (0);
}

struct vfsops memfs_vfsops = {
	memfs_mount,
	memfs_start,
	memfs_unmount,
	memfs_root,
	NULL,		/* quotactl */
	memfs_statfs,
	memfs_sync,
	NULL,		/* vget */
	NULL,		/* fhtovp */
	NULL,		/* vptofh */
	NULL,		/* init */
	NULL,		/* sysctl */
	NULL,		/* checkexp */
};

static struct vfsconf memfs_vfsconf = {
	&memfs_vfsops, "memfs", 0, 0, 0, NULL, 0
};

/* A file system: registered by name, no slot (-1). */
MOD_VFS("memfs", -1, &memfs_vfsconf)

/*
 * The entry: as share/lkm's kernfsmod does, the vnode operations vector is built on every
 * call (the kernel allocates it once), then the kernel does the rest.
 */
int
memfsmod(struct lkm_table *lkmtp, int cmd, int ver)
{
	vfs_opv_init_explicit(&memfs_vnodeop_opv_desc);
	vfs_opv_init_default(&memfs_vnodeop_opv_desc);
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
