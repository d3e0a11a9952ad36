/* lkm kernel headers: <sys/file.h>: as on OpenBSD, the open flags (<sys/fcntl.h>: FREAD and
 * FWRITE for a driver's d_open, d_close and d_ioctl) and the descriptor types. This kernel has
 * no file descriptors of its own: struct file is not here. */
#ifndef _SYS_FILE_H_
#define _SYS_FILE_H_
#pragma GCC system_header

#include "fcntl.h"

#ifdef _KERNEL
#define DTYPE_VNODE 1   /* file */
#define DTYPE_SOCKET 2  /* communications endpoint */
#define DTYPE_PIPE 3    /* pipe */
#define DTYPE_KQUEUE 4  /* event queue */
#endif

#endif /* !_SYS_FILE_H_ */
