/* lkm kernel headers: <sys/proc.h>: the small process context a system call runs in. */
#ifndef _SYS_PROC_H_
#define _SYS_PROC_H_
#pragma GCC system_header

#include "types.h"
#include "param.h"

struct ucred;

struct proc {
	pid_t p_pid;               /* the calling client's process id */
	uid_t p_uid;               /* and user id */
	char p_comm[MAXCOMLEN + 1]; /* its command name */
	struct ucred *p_ucred;     /* its credentials (<sys/ucred.h>) */
};

#endif /* !_SYS_PROC_H_ */
