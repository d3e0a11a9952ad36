/* lkm kernel headers: <sys/namei.h>: path name lookup, OpenBSD 5.2's namei(9).
 *
 * namei(ndp) looks up ni_dirp (a path in the caller's memory, UIO_USERSPACE, or the kernel's,
 * UIO_SYSSPACE) from the kernel's root, one component at a time through VOP_LOOKUP, crossing
 * into mounted file systems (and out of one at ".." of its root). The last component's
 * operation (cn_nameiop) and the flags say what the caller gets back: ni_vp (referenced, and
 * locked with LOCKLEAF), ni_dvp (with LOCKPARENT or WANTPARENT), and for CREATE, DELETE and
 * RENAME the name kept (ni_cnd) for VOP_CREATE, VOP_REMOVE... A file system sees the name of
 * each lookup in its componentname: cn_nameptr (not NUL-terminated: cn_namelen bytes; the rest
 * of the path follows), ISLASTCN on the last, ISDOTDOT for "..". */
#ifndef _SYS_NAMEI_H_
#define _SYS_NAMEI_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"
#include "uio.h"

struct proc;
struct ucred;
struct vnode;

struct componentname {
	u_long cn_nameiop;       /* namei operation: LOOKUP, CREATE, DELETE, RENAME */
	u_long cn_flags;         /* flags to namei */
	struct proc *cn_proc;    /* process requesting lookup */
	struct ucred *cn_cred;   /* credentials */
	char *cn_pnbuf;          /* pathname buffer (HASBUF) */
	char *cn_nameptr;        /* pointer to looked up name */
	long cn_namelen;         /* length of looked up component */
	u_long cn_hash;          /* hash value of looked up name */
	long cn_consume;         /* chars to consume in lookup() */
};

struct nameidata {
	const char *ni_dirp;          /* pathname pointer */
	enum uio_seg ni_segflg;       /* location of pathname */
	struct vnode *ni_startdir;    /* starting directory */
	struct vnode *ni_rootdir;     /* logical root directory */
	struct vnode *ni_vp;          /* vnode of result */
	struct vnode *ni_dvp;         /* vnode of intermediate directory */
	size_t ni_pathlen;            /* remaining chars in path */
	char *ni_next;                /* next location in pathname */
	u_long ni_loopcnt;            /* count of symlinks encountered */
	struct componentname ni_cnd;
};

/* namei operations */
#define LOOKUP 0     /* perform name lookup only */
#define CREATE 1     /* setup for file creation */
#define DELETE 2     /* setup for file deletion */
#define RENAME 3     /* setup for file renaming */
#define OPMASK 3     /* mask for operation */

/* namei operational modifier flags */
#define LOCKLEAF 0x0004    /* lock inode on return */
#define LOCKPARENT 0x0008  /* want parent vnode returned locked */
#define WANTPARENT 0x0010  /* want parent vnode returned unlocked */
#define NOCACHE 0x0020     /* name must not be left in cache */
#define FOLLOW 0x0040      /* follow symbolic links */
#define NOFOLLOW 0x0000    /* do not follow symbolic links (pseudo) */
#define MODMASK 0x00fc     /* mask of operational modifiers */

/* namei parameter descriptors (cn_flags) */
#define NOCROSSMOUNT 0x000100  /* do not cross mount points */
#define RDONLY 0x000200        /* lookup with read-only semantics */
#define HASBUF 0x000400        /* has allocated pathname buffer */
#define SAVENAME 0x000800      /* save pathname buffer */
#define SAVESTART 0x001000     /* save starting directory */
#define ISDOTDOT 0x002000      /* current component name is .. */
#define MAKEENTRY 0x004000     /* entry is to be added to name cache */
#define ISLASTCN 0x008000      /* this is last component of pathname */
#define ISSYMLINK 0x010000     /* symlink needs interpretation */
#define REQUIREDIR 0x080000    /* must be a directory */
#define STRIPSLASHES 0x100000  /* strip trailing slashes */
#define PDIRUNLOCK 0x200000    /* vfs_lookup() unlocked parent dir */
#define PARAMASK 0x3fff00      /* mask of parameter descriptors */

#define NDINIT(ndp, op, flags, segflg, namep, p) do { \
	(ndp)->ni_cnd.cn_nameiop = (op); \
	(ndp)->ni_cnd.cn_flags = (flags); \
	(ndp)->ni_segflg = (segflg); \
	(ndp)->ni_dirp = (namep); \
	(ndp)->ni_cnd.cn_proc = (p); \
	(ndp)->ni_cnd.cn_cred = (struct ucred *)0; \
	(ndp)->ni_startdir = (struct vnode *)0; \
	(ndp)->ni_rootdir = (struct vnode *)0; \
} while (0)

#ifdef _KERNEL
__BEGIN_DECLS
/* 0 with the vnodes the flags ask for; ENOENT, ENOTDIR, ENAMETOOLONG, EFAULT... */
int namei(struct nameidata *);
/* One step: the next component of ndp from ni_dvp (namei calls it). */
int vfs_lookup(struct nameidata *);
__END_DECLS
#endif

#endif /* !_SYS_NAMEI_H_ */
