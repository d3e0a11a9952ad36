/* lkm kernel headers: <lib/libkern/libkern.h>: the kernel's small C library, where OpenBSD
 * declares it (<sys/systm.h> includes it): string functions and integer min/max. As in OpenBSD's
 * libkern there is strncasecmp but no strcasecmp. These are the
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
int bcmp(const void *, const void *, size_t);
int ffs(int);
void *memchr(const void *, int, size_t);
int memcmp(const void *, const void *, size_t);
size_t strlen(const char *);
char *strncpy(char *, const char *, size_t);
size_t strnlen(const char *, size_t);
size_t strlcpy(char *, const char *, size_t);
size_t strlcat(char *, const char *, size_t);
int strcmp(const char *, const char *);
int strncmp(const char *, const char *, size_t);
int strncasecmp(const char *, const char *, size_t);
char *strchr(const char *, int);
char *strrchr(const char *, int);
/* 0 when the n bytes are equal, else not 0, in a time that depends on n only. */
int timingsafe_bcmp(const void *, const void *, size_t);
__END_DECLS

#endif /* __LIBKERN_H__ */
