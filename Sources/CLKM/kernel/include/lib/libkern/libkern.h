/* lkm kernel headers: <lib/libkern/libkern.h>: the kernel's small C library, where OpenBSD
 * declares it (<sys/systm.h> includes it): string functions and integer min/max. These are the
 * kernel's own functions, not the C library's: a module that needs strtol, sprintf or fopen
 * writes its own or does without. */
#ifndef __LIBKERN_H__
#define __LIBKERN_H__
#pragma GCC system_header

#include "../../sys/types.h"
#include "../../sys/cdefs.h"

static __inline int imax(int a, int b) { return (a > b ? a : b); }
static __inline int imin(int a, int b) { return (a < b ? a : b); }
static __inline long lmax(long a, long b) { return (a > b ? a : b); }
static __inline long lmin(long a, long b) { return (a < b ? a : b); }
static __inline u_int max(u_int a, u_int b) { return (a > b ? a : b); }
static __inline u_int min(u_int a, u_int b) { return (a < b ? a : b); }
static __inline u_long ulmax(u_long a, u_long b) { return (a > b ? a : b); }
static __inline u_long ulmin(u_long a, u_long b) { return (a < b ? a : b); }

__BEGIN_DECLS
int memcmp(const void *, const void *, size_t);
size_t strlen(const char *);
int strcmp(const char *, const char *);
int strncmp(const char *, const char *, size_t);
size_t strlcpy(char *, const char *, size_t);
size_t strlcat(char *, const char *, size_t);
char *strchr(const char *, int);
char *strrchr(const char *, int);
__END_DECLS

#endif /* __LIBKERN_H__ */
