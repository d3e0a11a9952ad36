/* lkm kernel headers: <sys/time.h>: struct timeval and struct timespec, and the kernel's clocks. */
#ifndef _SYS_TIME_H_
#define _SYS_TIME_H_
#pragma GCC system_header

#include "types.h"

struct timeval {
	time_t tv_sec;   /* seconds */
	long tv_usec;    /* and microseconds */
};

struct timespec {
	time_t tv_sec;   /* seconds */
	long tv_nsec;    /* and nanoseconds */
};

/* The time of day. */
void microtime(struct timeval *);
void nanotime(struct timespec *);

#endif /* !_SYS_TIME_H_ */
