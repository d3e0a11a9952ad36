/* lkm kernel headers: <sys/poll.h>: poll(2)'s descriptors and events, OpenBSD's values. A
 * device's d_poll (and a file system's VOP_POLL) returns the events of `events` that are ready
 * now; when none is, it calls selrecord() on its struct selinfo (<sys/select.h>), and
 * selwakeup() on it when one becomes ready. */
#ifndef _SYS_POLL_H_
#define _SYS_POLL_H_
#pragma GCC system_header

struct pollfd {
	int fd;
	short events;
	short revents;
};

#define POLLIN 0x0001
#define POLLPRI 0x0002
#define POLLOUT 0x0004
#define POLLERR 0x0008
#define POLLHUP 0x0010
#define POLLNVAL 0x0020
#define POLLRDNORM 0x0040
#define POLLNORM POLLRDNORM
#define POLLWRNORM POLLOUT
#define POLLRDBAND 0x0080
#define POLLWRBAND 0x0100
#define POLL_NOHUP 0x1000

#define INFTIM (-1)

#endif /* !_SYS_POLL_H_ */
