/* lkm kernel headers: <sys/filio.h>: the generic file ioctls, OpenBSD's numbers (group 'f').
 * A driver's d_ioctl may be given any of them; the kernel does not handle them itself. */
#ifndef _SYS_FILIO_H_
#define _SYS_FILIO_H_
#pragma GCC system_header

#include "ioccom.h"

#define FIOCLEX _IO('f', 1)            /* set close on exec on fd */
#define FIONCLEX _IO('f', 2)           /* remove close on exec */
#define FIONREAD _IOR('f', 127, int)   /* get # bytes to read */
#define FIONBIO _IOW('f', 126, int)    /* set/clear non-blocking i/o */
#define FIOASYNC _IOW('f', 125, int)   /* set/clear async i/o */
#define FIOSETOWN _IOW('f', 124, int)  /* set owner */
#define FIOGETOWN _IOR('f', 123, int)  /* get owner */

#endif /* !_SYS_FILIO_H_ */
