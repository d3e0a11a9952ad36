/* lkm kernel headers: <sys/malloc.h>: malloc(9). Allocations are accounted to the module that
 * makes them; what a module has not freed when it unloads is reported in the message buffer. */
#ifndef _SYS_MALLOC_H_
#define _SYS_MALLOC_H_
#pragma GCC system_header

#include "types.h"

#define M_WAITOK 0x0001
#define M_NOWAIT 0x0002
#define M_CANFAIL 0x0004
#define M_ZERO 0x0008

#define M_FREE 0
#define M_DEVBUF 2
#define M_TEMP 127
#define M_LKM 115

void *malloc(size_t, int, int);
void free(void *, int);

#endif /* !_SYS_MALLOC_H_ */
