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
/* Seconds since the epoch, and since the kernel booted: updated at every tick (hz a second) and
 * before every request. */
extern volatile time_t time_second;
extern volatile time_t time_uptime;
/* The time of day (micro-, nanotime) and the time since the kernel booted (micro-, nanouptime),
 * read from the clock; the get* forms are cheaper and as of the host's last clock tick (a few
 * milliseconds at most behind). Uptime never goes back. */
void microtime(struct timeval *);
void nanotime(struct timespec *);
void getmicrotime(struct timeval *);
void getnanotime(struct timespec *);
void microuptime(struct timeval *);
void nanouptime(struct timespec *);
void getmicrouptime(struct timeval *);
void getnanouptime(struct timespec *);
__END_DECLS
#endif

#endif /* !_SYS_TIME_H_ */
