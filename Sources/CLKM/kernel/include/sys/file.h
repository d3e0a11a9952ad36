/* lkm kernel headers: <sys/file.h>: as on OpenBSD, the open flags (<sys/fcntl.h>: FREAD and
 * FWRITE for a driver's d_open, d_close and d_ioctl), and under _KERNEL the open files of a
 * process's descriptor table: struct file, its operations, and how a system call gets one. */
#ifndef _SYS_FILE_H_
#define _SYS_FILE_H_
#pragma GCC system_header

#include "fcntl.h"

#ifdef _KERNEL
#include "types.h"
#include "cdefs.h"
#include "queue.h"

struct file;
struct filedesc;
struct knote;
struct proc;
struct stat;
struct ucred;
struct uio;

struct fileops {
	int (*fo_read)(struct file *, off_t *, struct uio *, struct ucred *);
	int (*fo_write)(struct file *, off_t *, struct uio *, struct ucred *);
	int (*fo_ioctl)(struct file *, u_long, caddr_t, struct proc *);
	int (*fo_poll)(struct file *, int, struct proc *);
	int (*fo_kqfilter)(struct file *, struct knote *);
	int (*fo_stat)(struct file *, struct stat *, struct proc *);
	int (*fo_close)(struct file *, struct proc *);
};

/* One open file: the kernel's (a module reads it; it does not make or free one). */
struct file {
	LIST_ENTRY(file) f_list;   /* the kernel's list of open files */
	short f_flag;              /* FREAD, FWRITE, O_APPEND, O_NONBLOCK */
	short f_type;              /* DTYPE_VNODE... */
	long f_count;              /* references (descriptors, calls in progress) */
	struct ucred *f_cred;      /* credentials of the opener */
	struct fileops *f_ops;
	off_t f_offset;
	void *f_data;              /* the vnode */
};

#define DTYPE_VNODE 1   /* file */
#define DTYPE_SOCKET 2  /* communications endpoint */
#define DTYPE_PIPE 3    /* pipe */
#define DTYPE_KQUEUE 4  /* event queue */

__BEGIN_DECLS
/* The open file of descriptor fd, or NULL; take a reference with FREF while using it. */
struct file *fd_getfile(struct filedesc *, int fd);
void FREF(struct file *);
int FRELE(struct file *, struct proc *);
/* The vnode file of descriptor fd (referenced: FRELE when done): 0, EBADF, or EINVAL for a
 * file that is not a vnode. */
int getvnode(struct proc *, int fd, struct file **);
__END_DECLS
#endif /* _KERNEL */

#endif /* !_SYS_FILE_H_ */
