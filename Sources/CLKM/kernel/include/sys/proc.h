/* lkm kernel headers: <sys/proc.h>: the process a system call runs for. The kernel keeps one
 * per client process (by its pid), from its first request until its last session with lkmd
 * ends; kernel threads, timeouts and module threads run for proc0 (pid 0, "kernel"). */
#ifndef _SYS_PROC_H_
#define _SYS_PROC_H_
#pragma GCC system_header

#include "types.h"
#include "param.h"

struct ucred;
struct filedesc;

struct proc {
	pid_t p_pid;               /* the calling client's process id */
	uid_t p_uid;               /* and user id */
	char p_comm[MAXCOMLEN + 1]; /* its command name */
	struct ucred *p_ucred;     /* its credentials (<sys/ucred.h>) */
	struct filedesc *p_fd;     /* its open files */
};

#ifdef _KERNEL
/* The process the current request runs for (OpenBSD's curproc, curcpu()->ci_curproc): the
 * client's, or proc0 for the kernel's own threads. */
struct proc *lkm_curproc(void);
#define curproc (lkm_curproc())
#endif

#endif /* !_SYS_PROC_H_ */
