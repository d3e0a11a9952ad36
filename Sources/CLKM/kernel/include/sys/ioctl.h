/* lkm kernel headers: <sys/ioctl.h>: ioctl commands, as OpenBSD's: the encoding (<sys/ioccom.h>:
 * _IOW('r', 1, int) is 0x80047201, where Linux's would be 0x40047201) and the generic file
 * ioctls (<sys/filio.h>). A driver defines its own commands with _IO, _IOR, _IOW and _IOWR; the
 * kernel copies the argument in and out around d_ioctl as the command's direction and size say.
 * The terminal, disk and socket ioctls OpenBSD's header also pulls in are not here: this kernel
 * has no terminals, disks or sockets. */
#ifndef _SYS_IOCTL_H_
#define _SYS_IOCTL_H_
#pragma GCC system_header

#include "ioccom.h"
#include "filio.h"

#endif /* !_SYS_IOCTL_H_ */
