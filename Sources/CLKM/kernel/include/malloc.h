/* lkm kernel headers: <malloc.h> is the C library's. This file stands in its place on the kernel
 * headers' path so that a module including it by mistake gets one clear error instead of a
 * clash between the C library's types and the kernel's. */
#ifndef _LKM_LIBC_MALLOC_H_
#define _LKM_LIBC_MALLOC_H_
#error "<malloc.h> is a C library header; kernel code uses malloc(9) and free(9) in <sys/malloc.h>: see lkm(4)"
#endif
