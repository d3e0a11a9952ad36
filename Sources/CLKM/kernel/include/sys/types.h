/* lkm kernel headers: <sys/types.h>. Self-contained: modules compile against these headers
 * only (cc -c -D_KERNEL -I INCLUDE mod.c); nothing here includes the C library's headers. */
#ifndef _SYS_TYPES_H_
#define _SYS_TYPES_H_
#pragma GCC system_header

typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long int64_t;
typedef unsigned long uint64_t;
typedef long intptr_t;
typedef unsigned long uintptr_t;

typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
typedef unsigned long u_long;
typedef uint8_t u_int8_t;
typedef uint16_t u_int16_t;
typedef uint32_t u_int32_t;
typedef uint64_t u_int64_t;

typedef __SIZE_TYPE__ size_t;
typedef long ssize_t;
typedef long off_t;
typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef unsigned int mode_t;
typedef int dev_t;
typedef long time_t;
typedef long register_t;
typedef char *caddr_t;
typedef unsigned long vaddr_t;
typedef unsigned long vsize_t;
typedef unsigned long paddr_t;
typedef int64_t daddr_t;    /* disk block number, in DEV_BSIZE units */
typedef uint64_t ino_t;
typedef uint32_t nlink_t;

/* Device numbers: OpenBSD's split of dev_t into an 8-bit major and a minor. */
#define major(x) ((int32_t)(((u_int32_t)(x) >> 8) & 0xff))
#define minor(x) ((int32_t)((x) & 0xff) | (((x) & 0xffff0000) >> 8))
#define makedev(x, y) ((dev_t)((((x) & 0xff) << 8) | ((y) & 0xff) | (((y) & 0xffff00) << 8)))
#define NODEV (dev_t)(-1)

#ifndef NULL
#ifdef __cplusplus
#define NULL __null
#else
#define NULL ((void *)0)
#endif
#endif

#endif /* !_SYS_TYPES_H_ */
