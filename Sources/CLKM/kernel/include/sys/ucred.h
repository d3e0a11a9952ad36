/* lkm kernel headers: <sys/ucred.h>: credentials, OpenBSD 5.2's struct ucred. Every request a
 * module serves runs for a process whose p_ucred holds its client's effective user and group
 * and its supplementary groups (SO_PEERCRED and SO_PEERGROUPS of the device session), made with
 * crget and dropped with crfree when the request ends. */
#ifndef _SYS_UCRED_H_
#define _SYS_UCRED_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"
#include "param.h"

struct ucred {
	u_int cr_ref;              /* reference count */
	uid_t cr_uid;              /* effective user id */
	gid_t cr_gid;              /* effective group id */
	short cr_ngroups;          /* number of groups */
	gid_t cr_groups[NGROUPS];  /* groups */
};
#define NOCRED ((struct ucred *)-1)  /* no credential available */
#define FSCRED ((struct ucred *)-2)  /* filesystem credential */

#ifdef _KERNEL
#define crhold(cr) (cr)->cr_ref++

struct proc;
__BEGIN_DECLS
/* crget: a new ucred, zeroed, with one reference (the kernel's memory, from a pool). crfree
 * drops a reference and frees the ucred with the last; crfree of a pointer crget did not return,
 * or of a ucred without references, is a panic. crdup: a copy with one reference; crcopy: cr
 * itself when it has one reference, else a copy (the reference to cr dropped). */
struct ucred *crget(void);
void crfree(struct ucred *);
struct ucred *crdup(struct ucred *);
struct ucred *crcopy(struct ucred *);
/* suser: 0 when the process's effective user is root, else EPERM (flags are unused);
 * suser_ucred the same for a ucred. */
int suser(struct proc *, u_int);
int suser_ucred(struct ucred *);
__END_DECLS
#endif

#endif /* !_SYS_UCRED_H_ */
