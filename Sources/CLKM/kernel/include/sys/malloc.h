/* lkm kernel headers: <sys/malloc.h>: malloc(9). Allocations are accounted to the module that
 * makes them; what a module has not freed when it unloads (or when its load fails) is reported
 * in the message buffer and freed.
 *
 * Flags as OpenBSD's: M_WAITOK may wait and never returns NULL (out of memory is a panic here,
 * where nothing can wait for memory); M_NOWAIT returns NULL instead; M_CANFAIL returns NULL
 * instead of panicking, also for an allocation over the limit; M_ZERO zeroes. Flags with neither
 * M_WAITOK nor M_NOWAIT act as M_WAITOK. One allocation is at most 65535 pages (268431360
 * bytes). free() of a pointer malloc did not return, of one already freed, or of an allocation
 * whose redzone (the bytes just past it) was overwritten is a panic naming what it found. */
#ifndef _SYS_MALLOC_H_
#define _SYS_MALLOC_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

#define M_WAITOK 0x0001
#define M_NOWAIT 0x0002
#define M_CANFAIL 0x0004
#define M_ZERO 0x0008

#define M_FREE 0
#define M_DEVBUF 2
#define M_TEMP 127
#define M_LKM 115

#ifdef _KERNEL
/* malloc(9) and free(9): three and two arguments. The C library's malloc(size) and free(p) are
 * not these: a module that declares them itself (or includes <stdlib.h>) calls the kernel's
 * with garbage for the missing arguments. */
__BEGIN_DECLS
void *malloc(size_t, int, int);
void free(void *, int);
__END_DECLS
#endif

#endif /* !_SYS_MALLOC_H_ */
