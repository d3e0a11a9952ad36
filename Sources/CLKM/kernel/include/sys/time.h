/* lkm kernel headers: <sys/time.h>: struct timeval and struct timespec, and the kernel's clocks. */
#ifndef _SYS_TIME_H_
#define _SYS_TIME_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

struct timeval {
	time_t tv_sec;   /* seconds */
	long tv_usec;    /* and microseconds */
};

struct timespec {
	time_t tv_sec;   /* seconds */
	long tv_nsec;    /* and nanoseconds */
};

#ifdef _KERNEL
__BEGIN_DECLS
/* The time of day. */
void microtime(struct timeval *);
void nanotime(struct timespec *);
/* Seconds since the epoch, updated per request. */
extern time_t time_second;
__END_DECLS
#endif

#endif /* !_SYS_TIME_H_ */
