/* The rest of OpenBSD's libkern that modules call (lib/libkern/libkern.h): strncpy, strnlen,
 * memchr, bcmp, ffs, strncasecmp and timingsafe_bcmp. The kernel's own code, not the C
 * library's: each reads and writes only the bytes its contract names, so a fault in one is the
 * calling module's (these are functions for modules: see CLKM_MODAPI). OpenBSD's libkern has
 * strncasecmp but no strcasecmp; so has this one. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <string.h>

/* strncpy(3): copies at most n bytes of src, stopping after its NUL, and pads with NULs to n. */
CLKM_MODAPI char *clkm_strncpy(char *dst, const char *src, size_t n) {
  size_t i = 0;
  for (; i < n && src[i] != 0; i++) dst[i] = src[i];
  for (; i < n; i++) dst[i] = 0;
  return dst;
}

/* The length of s, reading at most maxlen bytes. */
CLKM_MODAPI size_t clkm_strnlen(const char *s, size_t maxlen) {
  size_t n = 0;
  while (n < maxlen && s[n] != 0) n++;
  return n;
}

CLKM_MODAPI void *clkm_memchr(const void *s, int c, size_t n) {
  const unsigned char *p = s;
  for (size_t i = 0; i < n; i++)
    if (p[i] == (unsigned char)c) return (void *)(p + i);
  return NULL;
}

/* 0 when the n bytes are equal, else not 0 (OpenBSD's returns the count of bytes left). */
CLKM_MODAPI int clkm_bcmp(const void *a, const void *b, size_t n) {
  const unsigned char *p = a, *q = b;
  for (size_t i = 0; i < n; i++)
    if (p[i] != q[i]) return (int)(n - i);
  return 0;
}

/* The position (from 1) of the least significant bit set, 0 for 0. */
CLKM_MODAPI int clkm_ffs(int mask) { return mask == 0 ? 0 : __builtin_ctz((unsigned)mask) + 1; }

static int lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* strncmp ignoring ASCII case, as OpenBSD's (it folds with a table of the ASCII letters). */
CLKM_MODAPI int clkm_strncasecmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int x = lower((unsigned char)a[i]), y = lower((unsigned char)b[i]);
    if (x != y) return x - y;
    if (x == 0) return 0;
  }
  return 0;
}

/* 0 when equal, 1 otherwise, reading every byte whatever they hold: the time depends on n
 * only. The accumulation goes through a volatile so that the compiler cannot stop early. */
CLKM_MODAPI int clkm_timingsafe_bcmp(const void *a, const void *b, size_t n) {
  const volatile unsigned char *p = a, *q = b;
  volatile unsigned char difference = 0;
  for (size_t i = 0; i < n; i++) difference |= p[i] ^ q[i];
  return difference != 0;
}

size_t clkm_libkern_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("strncpy", clkm_strncpy),         CLKM_FUNC("strnlen", clkm_strnlen),
      CLKM_FUNC("memchr", clkm_memchr),           CLKM_FUNC("bcmp", clkm_bcmp),
      CLKM_FUNC("ffs", clkm_ffs),                 CLKM_FUNC("strncasecmp", clkm_strncasecmp),
      CLKM_FUNC("timingsafe_bcmp", clkm_timingsafe_bcmp),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
