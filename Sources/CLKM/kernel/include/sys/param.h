/* lkm kernel headers: <sys/param.h>. */
#ifndef _SYS_PARAM_H_
#define _SYS_PARAM_H_
#pragma GCC system_header

#include "types.h"
#include "errno.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1 << PAGE_SHIFT)
#define PAGE_MASK (PAGE_SIZE - 1)
#define MAXCOMLEN 16
#define MAXHOSTNAMELEN 256
#define MAXPATHLEN 1024
#define NGROUPS_MAX 16
#define NGROUPS NGROUPS_MAX /* max number of groups in a ucred */
#define NBBY 8

#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#define nitems(a) (sizeof((a)) / sizeof((a)[0]))
#define round_page(x) (((x) + PAGE_MASK) & ~(unsigned long)PAGE_MASK)

/* Priorities to sleep at (tsleep(9)), and its flags. */
#define PSWP 0
#define PVM 4
#define PINOD 8
#define PRIBIO 16
#define PVFS 20
#define PZERO 22
#define PSOCK 24
#define PWAIT 32
#define PLOCK 36
#define PPAUSE 40
#define PUSER 50
#define PRIMASK 0x0ff
#define PCATCH 0x100     /* the sleep ends with EINTR when the request's client goes away */
#define PNORELOCK 0x200

#endif /* !_SYS_PARAM_H_ */
