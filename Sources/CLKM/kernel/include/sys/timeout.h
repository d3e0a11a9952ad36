/* lkm kernel headers: <sys/timeout.h>: timeout(9), OpenBSD 5.2's interface. The function runs
 * from the kernel's callout thread, with the kernel lock held, hz times a second at most; a
 * module's pending timeouts are cancelled when it unloads (and reported). */
#ifndef _SYS_TIMEOUT_H_
#define _SYS_TIMEOUT_H_
#pragma GCC system_header

#include "cdefs.h"

struct circq {
	struct circq *next;
	struct circq *prev;
};

struct timeout {
	struct circq to_list;     /* the kernel's (unused here: it keeps its own list) */
	void (*to_func)(void *);  /* function to call */
	void *to_arg;             /* its argument */
	int to_time;              /* tick it is due */
	int to_flags;
};

#define TIMEOUT_ONQUEUE 2       /* pending */
#define TIMEOUT_INITIALIZED 4   /* timeout_set has been called */
#define TIMEOUT_TRIGGERED 8     /* it ran (or is running) */

#define timeout_pending(to) ((to)->to_flags & TIMEOUT_ONQUEUE)
#define timeout_initialized(to) ((to)->to_flags & TIMEOUT_INITIALIZED)
#define timeout_triggered(to) ((to)->to_flags & TIMEOUT_TRIGGERED)

__BEGIN_DECLS
void timeout_set(struct timeout *, void (*)(void *), void *);
/* Each returns 1 if the timeout was not pending before, 0 if it was (it is moved). */
int timeout_add(struct timeout *, int);
int timeout_add_sec(struct timeout *, int);
int timeout_add_msec(struct timeout *, int);
int timeout_add_usec(struct timeout *, int);
int timeout_add_nsec(struct timeout *, int);
/* Returns 1 if the timeout was pending. */
int timeout_del(struct timeout *);
__END_DECLS

#endif /* !_SYS_TIMEOUT_H_ */
