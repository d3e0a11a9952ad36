/* lkm kernel headers: <sys/mount.h>: file system types (struct vfsconf), their operations
 * (struct vfsops, OpenBSD 5.2's order) and mounts.
 *
 * A file system module (MOD_VFS) registers its vfsconf by name: a second file system of the
 * same name is EEXIST, and unloading one that is mounted is EBUSY. mount(2) of a type on a
 * directory calls its vfs_mount(mp, path, data, ndp, p) with a struct mount the kernel
 * allocated (mnt_vfc, mnt_op, mnt_flag, mnt_vnodecovered and mnt_stat's names filled), then
 * vfs_start if set; from then on the kernel reaches the file system's files through vfs_root
 * and the vnode operations (<sys/vnode.h>): the directory mounted on is covered. vfs_statfs
 * fills a struct statfs (statfs(2), getfsstat(2)); vfs_sync and vfs_vget are called if set.
 * unmount(2) calls vfs_unmount, which is expected to vflush() its vnodes; the kernel then
 * reclaims (VOP_RECLAIM) and frees whatever vnodes of the mount are left. vfs_init is called
 * when the type is registered. The kernel counts mounts of each type in vfc_refcount. */
#ifndef _SYS_MOUNT_H_
#define _SYS_MOUNT_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

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
	u_int32_t f_iosize;              /* optimal transfer block size */
	u_int32_t f_namemax;             /* maximum filename length */
	u_int64_t f_blocks;              /* total data blocks in file system */
	u_int64_t f_bfree;               /* free blocks in fs */
	int64_t f_bavail;                /* free blocks avail to non-superuser */
	u_int64_t f_files;               /* total file nodes in file system */
	u_int64_t f_ffree;               /* free file nodes in fs */
	int64_t f_favail;                /* free file nodes avail to non-root */
	uid_t f_owner;                   /* user that mounted the file system */
	u_int32_t f_spare;
	char f_fstypename[MFSNAMELEN];   /* fs type name */
	char f_mntonname[MNAMELEN];      /* directory on which mounted */
	char f_mntfromname[MNAMELEN];    /* mounted file system */
};

/* One mounted file system; the kernel allocates it and fills mnt_vfc, mnt_op, mnt_flag,
 * mnt_vnodecovered and mnt_stat's names before vfs_mount. */
struct mount {
	struct vfsconf *mnt_vfc;          /* configuration info */
	struct vfsops *mnt_op;            /* operations on fs */
	struct vnode *mnt_vnodecovered;   /* vnode we mounted on */
	int mnt_flag;                     /* MNT_* flags */
	int mnt_maxsymlinklen;            /* max size of short symlink */
	void *mnt_data;                   /* private data */
	struct statfs mnt_stat;           /* cache of filesystem stats */
};

/* mnt_flag */
#define MNT_RDONLY 0x00000001  /* read only filesystem */
#define MNT_NOSUID 0x00000008  /* don't honor setuid bits on fs */
#define MNT_NODEV 0x00000010   /* don't interpret special files */
#define MNT_LOCAL 0x00001000   /* filesystem is stored locally */
#define MNT_UPDATE 0x00010000  /* not a real mount, just an update (not supported here) */
#define MNT_ROOTFS 0x00004000  /* identifies the root filesystem */
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

/* getfsstat(2) flags */
#define MNT_WAIT 1    /* synchronously wait for I/O to complete */
#define MNT_NOWAIT 2  /* start all I/O, but do not wait for it */

#ifdef _KERNEL
__BEGIN_DECLS
/* Reclaims every vnode of mp that is not in use (but skipvp): 0, or EBUSY if one is (with
 * FORCECLOSE, those are taken out of use too). */
int vflush(struct mount *mp, struct vnode *skipvp, int flags);
/* The registered type named name, or NULL. */
struct vfsconf *vfs_byname(const char *name);
__END_DECLS
#endif

#endif /* !_SYS_MOUNT_H_ */
