/* lkm kernel headers: <ctype.h> is the C library's. This file stands in its place on the kernel
 * headers' path so that a module including it by mistake gets one clear error instead of a
 * clash between the C library's types and the kernel's. */
#ifndef _LKM_LIBC_CTYPE_H_
#define _LKM_LIBC_CTYPE_H_
#error "<ctype.h> is a C library header; kernel code uses <sys/systm.h>: see lkm(4)"
#endif
