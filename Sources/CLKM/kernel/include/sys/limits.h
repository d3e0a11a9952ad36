/* lkm kernel headers: <sys/limits.h>: the integer limits (amd64), for kernel code that cannot
 * include the C library's <limits.h>. */
#ifndef _SYS_LIMITS_H_
#define _SYS_LIMITS_H_
#pragma GCC system_header

#define CHAR_BIT 8
#define SCHAR_MAX 0x7f
#define SCHAR_MIN (-0x7f - 1)
#define UCHAR_MAX 0xff
#define CHAR_MAX SCHAR_MAX
#define CHAR_MIN SCHAR_MIN
#define SHRT_MAX 0x7fff
#define SHRT_MIN (-0x7fff - 1)
#define USHRT_MAX 0xffff
#define INT_MAX 0x7fffffff
#define INT_MIN (-0x7fffffff - 1)
#define UINT_MAX 0xffffffffU
#define LONG_MAX 0x7fffffffffffffffL
#define LONG_MIN (-0x7fffffffffffffffL - 1)
#define ULONG_MAX 0xffffffffffffffffUL
#define LLONG_MAX 0x7fffffffffffffffLL
#define LLONG_MIN (-0x7fffffffffffffffLL - 1)
#define ULLONG_MAX 0xffffffffffffffffULL
#define SIZE_MAX ULONG_MAX
#define SSIZE_MAX LONG_MAX

#endif /* !_SYS_LIMITS_H_ */
