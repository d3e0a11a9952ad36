/* lkm kernel headers: <sys/cdefs.h>: what the other headers need to be usable from C and C++.
 *
 * __BEGIN_DECLS and __END_DECLS put the kernel's functions in an extern "C" block when a module
 * is written in C++ (the kernel exports C names: printf, not _Z6printfPKcz). */
#ifndef _SYS_CDEFS_H_
#define _SYS_CDEFS_H_
#pragma GCC system_header

#ifdef __cplusplus
#define __BEGIN_DECLS extern "C" {
#define __END_DECLS }
#else
#define __BEGIN_DECLS
#define __END_DECLS
#endif

#define __CONCAT(x, y) x ## y
#define __STRING(x) #x

#define __dead __attribute__((__noreturn__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __unused __attribute__((__unused__))
#define __used __attribute__((__used__))

#endif /* !_SYS_CDEFS_H_ */
