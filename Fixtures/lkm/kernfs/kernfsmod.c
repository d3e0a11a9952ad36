/*
 * kernfsmod: the kernel file system as a loadable VFS module, after OpenBSD's
 * /usr/share/lkm/vfs example (kernfsmod.c there, the kernfs sources here in kernfs_vnops.c).
 *
 * The module registers the file system type "kernfs", OpenBSD's type number 11; the kernel
 * keeps file systems by name, so the slot (lkm_offset) stays -1 and modstat shows -1. Load,
 * mount and use it with
 *
 *	modload -e kernfsmod kernfsmod.o kernfs_vnops.o
 *	lkmctl mount kernfs /kern
 *	lkmctl ls /kern
 *	lkmctl cat /kern/version
 *	lkmctl write /kern/hostname newname	(sets kern.hostname)
 *
 * and unload with lkmctl umount /kern, then modunload -n kernfs (the module's name, not the
 * file's: OpenBSD's Makefile said modunload -n kernfsmod, which fails). Unloading while it is
 * mounted is EBUSY.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/lkm.h>

extern struct vfsops kernfs_vfsops;
extern struct vnodeopv_desc kernfs_vnodeop_opv_desc;

static struct vfsconf kernfs_vfsconf = {
	&kernfs_vfsops, MOUNT_KERNFS, 11, 0, 0, NULL, 0
};

/* A file system: registered by name, no slot (-1). */
MOD_VFS("kernfs", -1, &kernfs_vfsconf)

/*
 * The entry, as OpenBSD's kernfsmod: it builds the vnode operations vector from kernfs's table
 * on every call, then lets the kernel do the rest.
 */
int
kernfsmod(struct lkm_table *lkmtp, int cmd, int ver)
{
	vfs_opv_init_explicit(&kernfs_vnodeop_opv_desc);
	vfs_opv_init_default(&kernfs_vnodeop_opv_desc);
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
