/* lkm kernel headers: <sys/sysctl.h>: the names __sysctl(2) takes, OpenBSD's numbers, for the
 * kern variables this kernel has: kern.ostype, kern.osrelease, kern.version, kern.securelevel
 * (raised only, and kept by lkmd's supervisor), kern.hostname, kern.clockrate (hz). */
#ifndef _SYS_SYSCTL_H_
#define _SYS_SYSCTL_H_
#pragma GCC system_header

#define CTL_MAXNAME 12

#define CTL_UNSPEC 0
#define CTL_KERN 1

#define KERN_OSTYPE 1
#define KERN_OSRELEASE 2
#define KERN_OSREV 3
#define KERN_VERSION 4
#define KERN_MAXVNODES 5
#define KERN_MAXPROC 6
#define KERN_MAXFILES 7
#define KERN_ARGMAX 8
#define KERN_SECURELVL 9
#define KERN_HOSTNAME 10
#define KERN_HOSTID 11
#define KERN_CLOCKRATE 12

/* What kern.clockrate returns. */
struct clockinfo {
	int hz;       /* clock frequency */
	int tick;     /* micro-seconds per hz tick */
	int tickadj;  /* clock skew rate for adjtime() */
	int stathz;   /* statistics clock frequency */
	int profhz;   /* profiling clock frequency */
};

#endif /* !_SYS_SYSCTL_H_ */
