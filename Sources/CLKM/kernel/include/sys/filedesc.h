/* lkm kernel headers: <sys/filedesc.h>: a process's table of open files (p->p_fd). The kernel
 * keeps one per client process: descriptors live as long as the process keeps a session with
 * lkmd, and are closed when its last session ends. */
#ifndef _SYS_FILEDESC_H_
#define _SYS_FILEDESC_H_
#pragma GCC system_header

#include "types.h"

struct file;
struct vnode;

#define NDFILE 20           /* descriptors a table starts with */
#define NDFILE_MAX 1024     /* and the most it grows to (EMFILE beyond) */

struct filedesc {
	struct file **fd_ofiles;   /* file structures for open files */
	char *fd_ofileflags;       /* per-process open file flags */
	struct vnode *fd_cdir;     /* current directory */
	struct vnode *fd_rdir;     /* root directory */
	int fd_nfiles;             /* number of open files allocated */
	int fd_lastfile;           /* high-water mark of fd_ofiles */
	int fd_freefile;           /* approx. next free file */
	u_short fd_cmask;          /* mask for file creation */
	int fd_refcnt;             /* reference count */
};

#endif /* !_SYS_FILEDESC_H_ */
