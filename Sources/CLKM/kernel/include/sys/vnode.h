/* lkm kernel headers: <sys/vnode.h>: vnodes and the small vnode interface file system modules
 * implement.
 *
 * Vnodes belong to the kernel: a file system gets them from getnewvnode(9), sets v_type and
 * v_data, and may hand the same vnode out again (kernfs keeps one per file). They live until
 * the file system is unmounted; then the kernel calls VOP_RECLAIM on each and frees it. Every
 * vnode a file system returns must be one getnewvnode gave it for that mount.
 *
 * The operations take OpenBSD's argument structures (struct vop_*_args, passed as void *):
 * lookup of one name in a directory, create, getattr, read, write, readdir (struct dirent
 * records, <sys/dirent.h>) and reclaim. An operation that is NULL fails with EOPNOTSUPP
 * (reclaim: nothing to do). */
#ifndef _SYS_VNODE_H_
#define _SYS_VNODE_H_
#pragma GCC system_header

#include "types.h"
#include "time.h"
#include "cdefs.h"

struct mount;
struct proc;
struct ucred;
struct uio;

/* Vnode types: VNON means no type. */
enum vtype { VNON, VREG, VDIR, VBLK, VCHR, VLNK, VSOCK, VFIFO, VBAD };

/* Vnode tag types: which file system a vnode belongs to (the kernel does not interpret it). */
enum vtagtype {
	VT_NON, VT_UFS, VT_NFS, VT_MFS, VT_MSDOSFS, VT_LFS, VT_LOFS, VT_FDESC, VT_PORTAL,
	VT_NULL, VT_UMAP, VT_KERNFS, VT_PROCFS, VT_AFS, VT_ISOFS, VT_UNION, VT_ADOSFS, VT_EXT2FS
};

struct vops;

struct vnode {
	enum vtype v_type;      /* vnode type, set by the file system */
	enum vtagtype v_tag;    /* type of underlying data */
	struct vops *v_op;      /* vnode operations vector */
	struct mount *v_mount;  /* ptr to vfs we are in */
	void *v_data;           /* private data for fs */
};

/* Vnode attributes (VOP_GETATTR); VNOVAL means not known. */
struct vattr {
	enum vtype va_type;        /* vnode type (for create) */
	mode_t va_mode;            /* files access mode and type */
	nlink_t va_nlink;          /* number of references to file */
	uid_t va_uid;              /* owner user id */
	gid_t va_gid;              /* owner group id */
	ino_t va_fileid;           /* file id */
	u_int64_t va_size;         /* file size in bytes */
	struct timespec va_mtime;  /* time of last modification */
};
#define VNOVAL (-1)

/* The name a lookup or create is about: cn_namelen bytes at cn_nameptr, NUL-terminated. */
struct componentname {
	u_long cn_nameiop;     /* namei operation: LOOKUP or CREATE */
	u_long cn_flags;       /* flags to namei */
	struct proc *cn_proc;  /* process requesting lookup */
	char *cn_nameptr;      /* pointer to looked up name */
	long cn_namelen;       /* length of looked up component */
};
#define LOOKUP 0
#define CREATE 1
#define ISLASTCN 0x008000  /* this is last component of pathname */

/* The vnode operations vector (alphabetical, as OpenBSD's struct vops) */
struct vops {
	int (*vop_create)(void *);
	int (*vop_getattr)(void *);
	int (*vop_lookup)(void *);
	int (*vop_read)(void *);
	int (*vop_readdir)(void *);
	int (*vop_reclaim)(void *);
	int (*vop_write)(void *);
};

struct vop_create_args {
	struct vnode *a_dvp;          /* the directory */
	struct vnode **a_vpp;         /* the new file's vnode */
	struct componentname *a_cnp;  /* its name */
	struct vattr *a_vap;          /* va_type VREG, va_mode */
};

struct vop_getattr_args {
	struct vnode *a_vp;
	struct vattr *a_vap;    /* filled by the file system, after vattr_null */
	struct ucred *a_cred;   /* NULL */
	struct proc *a_p;
};

struct vop_lookup_args {
	struct vnode *a_dvp;          /* the directory */
	struct vnode **a_vpp;         /* the vnode found; ENOENT if none */
	struct componentname *a_cnp;  /* the name (never "." or "..") */
};

struct vop_read_args {
	struct vnode *a_vp;
	struct uio *a_uio;      /* uio_offset: where; uio_resid: how much at most */
	int a_ioflag;
	struct ucred *a_cred;   /* NULL */
};

struct vop_readdir_args {
	struct vnode *a_vp;
	struct uio *a_uio;      /* struct dirent records from uio_offset on */
	struct ucred *a_cred;   /* NULL */
	int *a_eofflag;         /* set when the last entry has been returned */
};

struct vop_reclaim_args {
	struct vnode *a_vp;
	struct proc *a_p;
};

struct vop_write_args {
	struct vnode *a_vp;
	struct uio *a_uio;
	int a_ioflag;
	struct ucred *a_cred;   /* NULL */
};

/* ioflag */
#define IO_UNIT 0x01
#define IO_APPEND 0x02

/* A new vnode for mount mp with operations vops: 0, or ENFILE when the mount has 4096. */
__BEGIN_DECLS
int getnewvnode(enum vtagtype tag, struct mount *mp, struct vops *vops, struct vnode **vpp);
/* Sets every attribute to VNOVAL. */
void vattr_null(struct vattr *vap);
/* An operation a file system does not support. */
int eopnotsupp(void *);
__END_DECLS

#endif /* !_SYS_VNODE_H_ */
