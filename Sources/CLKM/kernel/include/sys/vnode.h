/* lkm kernel headers: <sys/vnode.h>: vnodes and the vnode operations, as OpenBSD 5.2's file
 * systems are written against them (<sys/vnode.h> and the generated <sys/vnode_if.h>).
 *
 * A file system declares its operations as a table of (descriptor, function) pairs, a
 * struct vnodeopv_desc that names the vector to build:
 *
 *	int (**myfs_vnodeop_p)(void *);
 *	struct vnodeopv_entry_desc myfs_vnodeop_entries[] = {
 *		{ &vop_default_desc, vn_default_error },
 *		{ &vop_lookup_desc, myfs_lookup },
 *		...
 *		{ NULL, NULL }
 *	};
 *	struct vnodeopv_desc myfs_vnodeop_opv_desc =
 *		{ &myfs_vnodeop_p, myfs_vnodeop_entries };
 *
 * and its module calls vfs_opv_init_explicit() and vfs_opv_init_default() on it (share/lkm's
 * kernfsmod does), which allocate the vector and fill it: each operation's slot with the
 * function given for it, the others with the vop_default_desc entry. getnewvnode() gives a
 * vnode that uses the vector; the kernel calls an operation through VOP_LOOKUP(),
 * VOP_READ()... which build the operation's argument structure (struct vop_*_args, its first
 * member the descriptor) and call the function in the vnode's vector at the descriptor's
 * offset.
 *
 * The kernel checks what it follows: a vnode handed to it must be one getnewvnode() gave (and
 * not freed), a vector entry must be code of the file system's module or a function the kernel
 * exports (vop_generic_*, vn_default_error, eopnotsupp, nullop, spec_*); anything else fails
 * with EFAULT and a line in the message buffer. An operation runs guarded, as the module's own
 * code: a fault is an oops of the module and EFAULT for the caller.
 *
 * References and locks follow OpenBSD 5.2 (4.4BSD): vref() and vget() take a reference, vrele()
 * drops one (VOP_INACTIVE at the last), vput() unlocks and drops. VOP_LOOKUP returns *a_vpp
 * referenced and locked; VOP_CREATE, VOP_MKNOD, VOP_MKDIR and VOP_SYMLINK get a_dvp locked and
 * referenced, release it (vput) and return the new vnode locked and referenced; VOP_REMOVE and
 * VOP_RMDIR release both vnodes; VOP_RENAME releases all four (vrele the source ones, vput the
 * target ones); VOP_ABORTOP frees what a CREATE, DELETE or RENAME lookup kept. The kernel's
 * requests run under one big lock, so vnode locks (VOP_LOCK, vop_generic_lock) never wait:
 * they are counted, for VOP_ISLOCKED. Vnodes live until their file system is unmounted or the
 * kernel recycles an unreferenced one: VOP_RECLAIM, then the vnode is freed. */
#ifndef _SYS_VNODE_H_
#define _SYS_VNODE_H_
#pragma GCC system_header

#include "types.h"
#include "time.h"
#include "cdefs.h"
#include "queue.h"

struct buf;
struct flock;
struct componentname;
struct knote;
struct mount;
struct proc;
struct ucred;
struct uio;
struct vattr;
struct vnode;

/* Vnode types: VNON means no type. */
enum vtype { VNON, VREG, VDIR, VBLK, VCHR, VLNK, VSOCK, VFIFO, VBAD };

/* Vnode tag types: which file system a vnode belongs to (the kernel does not interpret it). */
enum vtagtype {
	VT_NON, VT_UFS, VT_NFS, VT_MFS, VT_MSDOSFS, VT_PORTAL, VT_PROCFS, VT_AFS, VT_ISOFS,
	VT_ADOSFS, VT_EXT2FS, VT_VFS, VT_XFS, VT_NTFS, VT_UDF, VT_FUSEFS, VT_KERNFS, VT_NULL
};

/* What the kernel keeps of a device special file (v_specinfo). */
struct specinfo {
	dev_t si_rdev;
};

struct vnode {
	int (**v_op)(void *);            /* vnode operations vector */
	enum vtype v_type;               /* vnode type (set by the file system) */
	u_int v_flag;                    /* vnode flags (below) */
	u_int v_usecount;                /* references */
	u_int v_writecount;              /* references for writing */
	u_int v_lockcount;               /* VOP_LOCK depth (vop_generic_lock) */
	struct mount *v_mount;           /* the file system it belongs to */
	union {
		struct mount *vu_mountedhere;  /* VDIR: the file system mounted here */
		struct specinfo *vu_specinfo;  /* VCHR, VBLK: the device */
	} v_un;
	enum vtagtype v_tag;             /* type of the underlying data */
	void *v_data;                    /* the file system's data */
	void *v_selectinfo;              /* the kernel's (poll) */
};
#define v_mountedhere v_un.vu_mountedhere
#define v_specinfo v_un.vu_specinfo
#define v_rdev v_specinfo->si_rdev

/* v_flag */
#define VROOT 0x0001     /* root of its file system */
#define VTEXT 0x0002     /* vnode is a pure text prototype */
#define VSYSTEM 0x0004   /* vnode being used by kernel */
#define VISTTY 0x0008    /* vnode represents a tty */
#define VXLOCK 0x0100    /* vnode is being reclaimed */

/* Vnode attributes; VNOVAL means not known (vattr_null sets every field to it). */
struct vattr {
	enum vtype va_type;        /* vnode type (for create) */
	mode_t va_mode;            /* files access mode and type */
	nlink_t va_nlink;          /* number of references to file */
	uid_t va_uid;              /* owner user id */
	gid_t va_gid;              /* owner group id */
	long va_fsid;              /* file system id (dev for now) */
	ino_t va_fileid;           /* file id */
	u_int64_t va_size;         /* file size in bytes */
	long va_blocksize;         /* blocksize preferred for i/o */
	struct timespec va_atime;  /* time of last access */
	struct timespec va_mtime;  /* time of last modification */
	struct timespec va_ctime;  /* time file changed */
	u_long va_gen;             /* generation number of file */
	u_long va_flags;           /* flags defined for file */
	dev_t va_rdev;             /* device the special file represents */
	u_int64_t va_bytes;        /* bytes of disk space held by file */
	u_int64_t va_filerev;      /* file modification number */
	u_int va_vaflags;          /* operations flags, see below */
	long va_spare;             /* remain quad aligned */
};
#define VNOVAL (-1)
#define VA_UTIMES_NULL 0x01      /* utimes argument was NULL */

/* ioflag */
#define IO_UNIT 0x01     /* do I/O as atomic unit */
#define IO_APPEND 0x02   /* append write to end */
#define IO_SYNC 0x04     /* do I/O synchronously */
#define IO_NODELOCKED 0x08 /* underlying node already locked */
#define IO_NDELAY 0x10   /* FNDELAY flag set in file table */

/* Modes for VOP_ACCESS (and the permission bits of va_mode). */
#define VSUID 04000
#define VSGID 02000
#define VSVTX 01000
#define VREAD 00400
#define VWRITE 00200
#define VEXEC 00100

/* Flags of VOP_LOCK and vn_lock (<sys/lock.h> on OpenBSD). */
#define LK_SHARED 0x00000001
#define LK_EXCLUSIVE 0x00000002
#define LK_RELEASE 0x00000006
#define LK_TYPE_MASK 0x0000000f
#define LK_NOWAIT 0x00000010
#define LK_RETRY 0x00020000

/* vflush flags */
#define SKIPSYSTEM 0x0001
#define FORCECLOSE 0x0002
#define WRITECLOSE 0x0004

/* ---- Operation descriptors and vectors ---- */

/* One vnode operation: its slot in every vector, its name. */
struct vnodeop_desc {
	int vdesc_offset;       /* offset in vector, first for speed */
	char *vdesc_name;       /* a readable name for debugging */
	int vdesc_flags;        /* VDESC_* flags */
};

/* One (operation, implementation) pair of a file system's table. */
struct vnodeopv_entry_desc {
	struct vnodeop_desc *opve_op;  /* which operation this is */
	int (*opve_impl)(void *);      /* code implementing this operation */
};

/* A file system's table and the vector it is built into. */
struct vnodeopv_desc {
	int (***opv_desc_vector_p)(void *);        /* ptr to the ptr to the vector */
	struct vnodeopv_entry_desc *opv_desc_ops;  /* null terminated list */
};

#define VOCALL(OPSV, OFF, AP) ((*((OPSV)[(OFF)]))(AP))
#define VCALL(VP, OFF, AP) VOCALL((VP)->v_op, (OFF), (AP))
#define VDESC(OP) (&(OP##_desc))
#define VOFFSET(OP) (VDESC(OP)->vdesc_offset)

/* Every operation's argument structure starts like this. */
struct vop_generic_args {
	struct vnodeop_desc *a_desc;
};

struct vop_islocked_args { struct vnodeop_desc *a_desc; struct vnode *a_vp; };
struct vop_lookup_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;          /* the directory, locked */
	struct vnode **a_vpp;         /* the vnode found, referenced and locked */
	struct componentname *a_cnp;  /* the name: cn_nameptr, cn_namelen */
};
struct vop_create_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;          /* the directory: released (vput) by the operation */
	struct vnode **a_vpp;         /* the new file, referenced and locked */
	struct componentname *a_cnp;
	struct vattr *a_vap;          /* va_type, va_mode */
};
struct vop_mknod_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;
	struct vnode **a_vpp;
	struct componentname *a_cnp;
	struct vattr *a_vap;          /* va_type VCHR or VBLK, va_mode, va_rdev */
};
struct vop_open_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_mode;                   /* FREAD, FWRITE */
	struct ucred *a_cred;
	struct proc *a_p;
};
struct vop_close_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_fflag;
	struct ucred *a_cred;
	struct proc *a_p;
};
struct vop_access_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_mode;                   /* VREAD, VWRITE, VEXEC */
	struct ucred *a_cred;
	struct proc *a_p;
};
struct vop_getattr_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct vattr *a_vap;          /* filled by the file system, after vattr_null */
	struct ucred *a_cred;
	struct proc *a_p;
};
struct vop_setattr_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct vattr *a_vap;          /* the fields that are not VNOVAL are to be set */
	struct ucred *a_cred;
	struct proc *a_p;
};
struct vop_read_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct uio *a_uio;            /* uio_offset: where; uio_resid: how much at most */
	int a_ioflag;
	struct ucred *a_cred;
};
struct vop_write_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct uio *a_uio;
	int a_ioflag;                 /* IO_APPEND: at the end */
	struct ucred *a_cred;
};
struct vop_ioctl_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	u_long a_command;
	void *a_data;
	int a_fflag;
	struct ucred *a_cred;
	struct proc *a_p;
};
struct vop_poll_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_events;                 /* POLLIN, POLLOUT... (<sys/poll.h>) */
	struct proc *a_p;
};
struct vop_kqfilter_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct knote *a_kn;
};
struct vop_revoke_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_flags;
};
struct vop_fsync_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct ucred *a_cred;
	int a_waitfor;
	struct proc *a_p;
};
struct vop_remove_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;          /* both released (vput) by the operation */
	struct vnode *a_vp;
	struct componentname *a_cnp;
};
struct vop_link_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;
	struct vnode *a_vp;
	struct componentname *a_cnp;
};
struct vop_rename_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_fdvp;         /* referenced (vrele by the operation) */
	struct vnode *a_fvp;          /* referenced (vrele) */
	struct componentname *a_fcnp;
	struct vnode *a_tdvp;         /* locked and referenced (vput) */
	struct vnode *a_tvp;          /* NULL, or locked and referenced (vput) */
	struct componentname *a_tcnp;
};
struct vop_mkdir_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;
	struct vnode **a_vpp;
	struct componentname *a_cnp;
	struct vattr *a_vap;
};
struct vop_rmdir_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;
	struct vnode *a_vp;
	struct componentname *a_cnp;
};
struct vop_symlink_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;
	struct vnode **a_vpp;
	struct componentname *a_cnp;
	struct vattr *a_vap;
	char *a_target;
};
struct vop_readdir_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct uio *a_uio;            /* struct dirent records (<sys/dirent.h>) from uio_offset */
	struct ucred *a_cred;
	int *a_eofflag;               /* set when the last entry has been returned */
	int *a_ncookies;              /* NULL: this kernel does not use cookies */
	u_long **a_cookies;
};
struct vop_readlink_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	struct uio *a_uio;
	struct ucred *a_cred;
};
struct vop_abortop_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_dvp;
	struct componentname *a_cnp;
};
struct vop_inactive_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;           /* locked: the operation unlocks it */
	struct proc *a_p;
};
struct vop_reclaim_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;           /* the file system frees v_data */
	struct proc *a_p;
};
struct vop_lock_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_flags;
	struct proc *a_p;
};
struct vop_unlock_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_flags;
	struct proc *a_p;
};
struct vop_bmap_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	daddr_t a_bn;
	struct vnode **a_vpp;
	daddr_t *a_bnp;
	int *a_runp;
};
struct vop_print_args { struct vnodeop_desc *a_desc; struct vnode *a_vp; };
struct vop_pathconf_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	int a_name;
	register_t *a_retval;
};
struct vop_advlock_args {
	struct vnodeop_desc *a_desc;
	struct vnode *a_vp;
	void *a_id;
	int a_op;
	struct flock *a_fl;
	int a_flags;
};
struct vop_strategy_args { struct vnodeop_desc *a_desc; struct buf *a_bp; };
struct vop_bwrite_args { struct vnodeop_desc *a_desc; struct buf *a_bp; };

#ifdef _KERNEL
__BEGIN_DECLS
/* The operation descriptors, exported by the kernel. */
extern struct vnodeop_desc vop_default_desc;
extern struct vnodeop_desc vop_islocked_desc;
extern struct vnodeop_desc vop_lookup_desc;
extern struct vnodeop_desc vop_create_desc;
extern struct vnodeop_desc vop_mknod_desc;
extern struct vnodeop_desc vop_open_desc;
extern struct vnodeop_desc vop_close_desc;
extern struct vnodeop_desc vop_access_desc;
extern struct vnodeop_desc vop_getattr_desc;
extern struct vnodeop_desc vop_setattr_desc;
extern struct vnodeop_desc vop_read_desc;
extern struct vnodeop_desc vop_write_desc;
extern struct vnodeop_desc vop_ioctl_desc;
extern struct vnodeop_desc vop_poll_desc;
extern struct vnodeop_desc vop_kqfilter_desc;
extern struct vnodeop_desc vop_revoke_desc;
extern struct vnodeop_desc vop_fsync_desc;
extern struct vnodeop_desc vop_remove_desc;
extern struct vnodeop_desc vop_link_desc;
extern struct vnodeop_desc vop_rename_desc;
extern struct vnodeop_desc vop_mkdir_desc;
extern struct vnodeop_desc vop_rmdir_desc;
extern struct vnodeop_desc vop_symlink_desc;
extern struct vnodeop_desc vop_readdir_desc;
extern struct vnodeop_desc vop_readlink_desc;
extern struct vnodeop_desc vop_abortop_desc;
extern struct vnodeop_desc vop_inactive_desc;
extern struct vnodeop_desc vop_reclaim_desc;
extern struct vnodeop_desc vop_lock_desc;
extern struct vnodeop_desc vop_unlock_desc;
extern struct vnodeop_desc vop_bmap_desc;
extern struct vnodeop_desc vop_print_desc;
extern struct vnodeop_desc vop_pathconf_desc;
extern struct vnodeop_desc vop_advlock_desc;
extern struct vnodeop_desc vop_strategy_desc;
extern struct vnodeop_desc vop_bwrite_desc;
/* How many slots a vector has. */
extern int vfs_opv_numops;
/* The root directory's vnode (the kernel's root file system). */
extern struct vnode *rootvnode;

/* Build a file system's vector: the operations it gives, then the default for the others. */
void vfs_opv_init_explicit(struct vnodeopv_desc *);
void vfs_opv_init_default(struct vnodeopv_desc *);

/* The operations, through the vnode's vector. */
int VOP_ISLOCKED(struct vnode *);
int VOP_LOOKUP(struct vnode *, struct vnode **, struct componentname *);
int VOP_CREATE(struct vnode *, struct vnode **, struct componentname *, struct vattr *);
int VOP_MKNOD(struct vnode *, struct vnode **, struct componentname *, struct vattr *);
int VOP_OPEN(struct vnode *, int, struct ucred *, struct proc *);
int VOP_CLOSE(struct vnode *, int, struct ucred *, struct proc *);
int VOP_ACCESS(struct vnode *, int, struct ucred *, struct proc *);
int VOP_GETATTR(struct vnode *, struct vattr *, struct ucred *, struct proc *);
int VOP_SETATTR(struct vnode *, struct vattr *, struct ucred *, struct proc *);
int VOP_READ(struct vnode *, struct uio *, int, struct ucred *);
int VOP_WRITE(struct vnode *, struct uio *, int, struct ucred *);
int VOP_IOCTL(struct vnode *, u_long, void *, int, struct ucred *, struct proc *);
int VOP_POLL(struct vnode *, int, struct proc *);
int VOP_KQFILTER(struct vnode *, struct knote *);
int VOP_REVOKE(struct vnode *, int);
int VOP_FSYNC(struct vnode *, struct ucred *, int, struct proc *);
int VOP_REMOVE(struct vnode *, struct vnode *, struct componentname *);
int VOP_LINK(struct vnode *, struct vnode *, struct componentname *);
int VOP_RENAME(struct vnode *, struct vnode *, struct componentname *, struct vnode *,
    struct vnode *, struct componentname *);
int VOP_MKDIR(struct vnode *, struct vnode **, struct componentname *, struct vattr *);
int VOP_RMDIR(struct vnode *, struct vnode *, struct componentname *);
int VOP_SYMLINK(struct vnode *, struct vnode **, struct componentname *, struct vattr *,
    char *);
int VOP_READDIR(struct vnode *, struct uio *, struct ucred *, int *, int *, u_long **);
int VOP_READLINK(struct vnode *, struct uio *, struct ucred *);
int VOP_ABORTOP(struct vnode *, struct componentname *);
int VOP_INACTIVE(struct vnode *, struct proc *);
int VOP_RECLAIM(struct vnode *, struct proc *);
int VOP_LOCK(struct vnode *, int, struct proc *);
int VOP_UNLOCK(struct vnode *, int, struct proc *);
int VOP_BMAP(struct vnode *, daddr_t, struct vnode **, daddr_t *, int *);
int VOP_PRINT(struct vnode *);
int VOP_PATHCONF(struct vnode *, int, register_t *);
int VOP_ADVLOCK(struct vnode *, void *, int, struct flock *, int);
int VOP_STRATEGY(struct buf *);
int VOP_BWRITE(struct buf *);

/* Generic implementations a file system may put in its table. */
int vn_default_error(void *);         /* EOPNOTSUPP */
int vop_generic_islocked(void *);
int vop_generic_lock(void *);
int vop_generic_unlock(void *);
int vop_generic_abortop(void *);
int vop_generic_bmap(void *);
int vop_generic_revoke(void *);
int vop_generic_kqfilter(void *);
int eopnotsupp(void *);

/* A new vnode of mount mp, with the vector vops (one reference, unlocked): 0, ENFILE when the
 * kernel has no room for more, EINVAL for a mount that is not one. */
int getnewvnode(enum vtagtype tag, struct mount *mp, int (**vops)(void *), struct vnode **vpp);
/* A reference more, and lock it (flags: LK_EXCLUSIVE...; 0 takes no lock). */
int vget(struct vnode *, int, struct proc *);
void vref(struct vnode *);
/* A reference less: VOP_INACTIVE at the last. */
void vrele(struct vnode *);
/* VOP_UNLOCK, then vrele. */
void vput(struct vnode *);
/* VOP_LOCK, looping on LK_RETRY as OpenBSD's does (here it never waits). */
int vn_lock(struct vnode *, int, struct proc *);
/* Takes a vnode out of use at once: VOP_RECLAIM, and it is dead (VBAD) for its holders. */
void vgone(struct vnode *);
/* Sets every attribute to VNOVAL. */
void vattr_null(struct vattr *);
/* Whether the caller may use a file of mode/uid/gid for acc_mode (VREAD, VWRITE, VEXEC). */
int vaccess(enum vtype, mode_t, uid_t, gid_t, mode_t, struct ucred *);
__END_DECLS
#endif /* _KERNEL */

#endif /* !_SYS_VNODE_H_ */
