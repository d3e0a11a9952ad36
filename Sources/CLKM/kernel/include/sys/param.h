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
#define NBBY 8

#define MIN(a, b) (((a) < (b)) ? (a) : (b))
#define MAX(a, b) (((a) > (b)) ? (a) : (b))
#define nitems(a) (sizeof((a)) / sizeof((a)[0]))
#define round_page(x) (((x) + PAGE_MASK) & ~(unsigned long)PAGE_MASK)

#endif /* !_SYS_PARAM_H_ */
