/* lkm kernel headers: <sys/mount.h>: file system types (struct vfsconf), their operations
 * (struct vfsops, OpenBSD's order) and mounts.
 *
 * A file system module (MOD_VFS) registers its vfsconf by name: a second file system of the
 * same name is EEXIST, and unloading one that is mounted is EBUSY. Mounting a type calls its
 * vfs_mount(mp, path, NULL, NULL, p) with a struct mount the kernel allocated, then vfs_start if
 * set; the kernel reaches the file system's files through vfs_root and the vnode operations
 * (<sys/vnode.h>), and unmounting calls vfs_unmount, then frees every vnode of the mount
 * (VOP_RECLAIM first). vfs_init is called when the type is registered. The kernel counts
 * mounts of each type in vfc_refcount. The other operations keep OpenBSD's layout and are not
 * called. */
#ifndef _SYS_MOUNT_H_
#define _SYS_MOUNT_H_
#pragma GCC system_header

#include "types.h"

struct fid;
struct mbuf;
struct mount;
struct nameidata;
struct proc;
struct ucred;
struct vnode;

#define MFSNAMELEN 16  /* length of type name including NUL */
#define MNAMELEN 90    /* length of buffer for returned name */

#define MOUNT_KERNFS "kernfs"

struct statfs {
	u_int32_t f_flags;               /* copy of mount flags */
	u_int32_t f_bsize;               /* file system block size */
	u_int64_t f_blocks;              /* total data blocks in file system */
	u_int64_t f_bfree;               /* free blocks in fs */
	u_int64_t f_files;               /* total file nodes in file system */
	u_int64_t f_ffree;               /* free file nodes in fs */
	char f_fstypename[MFSNAMELEN];   /* fs type name */
	char f_mntonname[MNAMELEN];      /* directory on which mounted */
	char f_mntfromname[MNAMELEN];    /* mounted file system */
};

/* One mounted file system; the kernel allocates it and fills mnt_vfc, mnt_op, mnt_flag and
 * mnt_stat's names before vfs_mount. */
struct mount {
	struct vfsconf *mnt_vfc;   /* configuration info */
	struct vfsops *mnt_op;     /* operations on fs */
	int mnt_flag;              /* MNT_* flags */
	void *mnt_data;            /* private data */
	struct statfs mnt_stat;    /* cache of filesystem stats */
};

/* mnt_flag */
#define MNT_RDONLY 0x00000001  /* read only filesystem */
#define MNT_LOCAL 0x00001000   /* filesystem is stored locally */
/* vfs_unmount's mntflags */
#define MNT_FORCE 0x00080000   /* force unmount (the file system faulted) */

struct vfsops {
	int (*vfs_mount)(struct mount *mp, const char *path, void *data, struct nameidata *ndp,
	    struct proc *p);
	int (*vfs_start)(struct mount *mp, int flags, struct proc *p);
	int (*vfs_unmount)(struct mount *mp, int mntflags, struct proc *p);
	int (*vfs_root)(struct mount *mp, struct vnode **vpp);
	int (*vfs_quotactl)(struct mount *mp, int cmds, uid_t uid, caddr_t arg, struct proc *p);
	int (*vfs_statfs)(struct mount *mp, struct statfs *sbp, struct proc *p);
	int (*vfs_sync)(struct mount *mp, int waitfor, struct ucred *cred, struct proc *p);
	int (*vfs_vget)(struct mount *mp, ino_t ino, struct vnode **vpp);
	int (*vfs_fhtovp)(struct mount *mp, struct fid *fhp, struct vnode **vpp);
	int (*vfs_vptofh)(struct vnode *vp, struct fid *fhp);
	int (*vfs_init)(struct vfsconf *);
	int (*vfs_sysctl)(int *name, u_int namelen, void *oldp, size_t *oldlenp, void *newp,
	    size_t newlen, struct proc *p);
	int (*vfs_checkexp)(struct mount *mp, struct mbuf *nam, int *extflagsp,
	    struct ucred **credanonp);
};

/* A file system type (56 bytes). */
struct vfsconf {
	struct vfsops *vfc_vfsops;   /* filesystem operations vector */
	char vfc_name[MFSNAMELEN];   /* filesystem type name */
	int vfc_typenum;             /* historic filesystem type number */
	u_int vfc_refcount;          /* number mounted of this type */
	int vfc_flags;               /* permanent flags */
	struct vfsconf *vfc_next;    /* next in list (the kernel keeps its own list) */
	size_t vfc_datasize;         /* size of data args */
};

#endif /* !_SYS_MOUNT_H_ */
