/* lkm kernel headers: <sys/kernel.h>: global kernel variables. */
#ifndef _SYS_KERNEL_H_
#define _SYS_KERNEL_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

__BEGIN_DECLS
extern int hz;              /* clock ticks per second */
extern int ticks;           /* clock ticks since the kernel booted (timeout(9) counts in them) */
extern volatile time_t time_second; /* seconds since the epoch (<sys/time.h>) */
extern char hostname[];
extern char version[];
extern int securelevel;
__END_DECLS

#endif /* !_SYS_KERNEL_H_ */
