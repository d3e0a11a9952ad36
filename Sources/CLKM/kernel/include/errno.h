/* lkm kernel headers: <errno.h> is the C library's. This file stands in its place on the kernel
 * headers' path so that a module including it by mistake gets one clear error instead of a
 * clash between the C library's types and the kernel's. */
#ifndef _LKM_LIBC_ERRNO_H_
#define _LKM_LIBC_ERRNO_H_
#error "<errno.h> is a C library header; kernel code uses OpenBSD's errno values in <sys/errno.h>: see lkm(4)"
#endif
