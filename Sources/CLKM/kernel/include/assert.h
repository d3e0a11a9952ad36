/* lkm kernel headers: <assert.h> is the C library's. This file stands in its place on the kernel
 * headers' path so that a module including it by mistake gets one clear error instead of a
 * clash between the C library's types and the kernel's. */
#ifndef _LKM_LIBC_ASSERT_H_
#define _LKM_LIBC_ASSERT_H_
#error "<assert.h> is a C library header; kernel code uses panic(9) in <sys/systm.h>: see lkm(4)"
#endif
