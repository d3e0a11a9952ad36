/* lkm kernel headers: <sys/fcntl.h>: open flags, OpenBSD's values, and the kernel's FREAD and
 * FWRITE (what d_open, d_close and d_ioctl receive as their flag argument). */
#ifndef _SYS_FCNTL_H_
#define _SYS_FCNTL_H_
#pragma GCC system_header

#define O_RDONLY 0x0000    /* open for reading only */
#define O_WRONLY 0x0001    /* open for writing only */
#define O_RDWR 0x0002      /* open for reading and writing */
#define O_ACCMODE 0x0003   /* mask for above modes */
#define O_NONBLOCK 0x0004  /* no delay */
#define O_APPEND 0x0008    /* set append mode */
#define O_CREAT 0x0200     /* create if nonexistent */
#define O_TRUNC 0x0400     /* truncate to zero length */
#define O_EXCL 0x0800      /* error if already exists */

#ifdef _KERNEL
/* The kernel's view of the open mode: FREAD and FWRITE, O_* plus one. */
#define FREAD 0x0001
#define FWRITE 0x0002
#define FFLAGS(oflags) ((oflags) + 1)
#define FNONBLOCK O_NONBLOCK
#define FAPPEND O_APPEND
#define OFLAGS(fflags) ((fflags) - 1)
#endif

#endif /* !_SYS_FCNTL_H_ */
