/* Kernel functions modules call: strings and memory, copy(9) (a bad address is EFAULT, not a
 * crash), the system call table's placeholders, the process the current thread serves. (The
 * printf family is in subr_prf.c, malloc(9) in kern_malloc.c, the system calls in the files
 * from kern_proc.c on, the table in init_sysent.c.) */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- Strings and memory ---- */
CLKM_MODAPI void *clkm_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }
CLKM_MODAPI void *clkm_memmove(void *d, const void *s, size_t n) { return memmove(d, s, n); }
CLKM_MODAPI void *clkm_memset(void *d, int c, size_t n) { return memset(d, c, n); }
CLKM_MODAPI int clkm_memcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }
CLKM_MODAPI void clkm_bcopy(const void *s, void *d, size_t n) { memmove(d, s, n); }
CLKM_MODAPI void clkm_bzero(void *d, size_t n) { memset(d, 0, n); }
CLKM_MODAPI size_t clkm_strlen(const char *s) { return strlen(s); }
CLKM_MODAPI int clkm_strcmp(const char *a, const char *b) { return strcmp(a, b); }
CLKM_MODAPI int clkm_strncmp(const char *a, const char *b, size_t n) { return strncmp(a, b, n); }
CLKM_MODAPI char *clkm_strchr(const char *s, int c) { return strchr(s, c); }
CLKM_MODAPI char *clkm_strrchr(const char *s, int c) { return strrchr(s, c); }

CLKM_MODAPI size_t clkm_strlcpy(char *dst, const char *src, size_t size) {
  size_t n = strlen(src);
  if (size > 0) {
    size_t copy = n < size - 1 ? n : size - 1;
    memcpy(dst, src, copy);
    dst[copy] = 0;
  }
  return n;
}

CLKM_MODAPI size_t clkm_strlcat(char *dst, const char *src, size_t size) {
  size_t d = strnlen(dst, size);
  if (d == size) return size + strlen(src);
  return d + clkm_strlcpy(dst + d, src, size - d);
}

/* ---- copyin/copyout: a bad address is EFAULT, not a crash ---- */

CLKM_MODAPI int clkm_copyin(const void *uaddr, void *kaddr, size_t len) {
  sigjmp_buf jb;
  if (sigsetjmp(jb, 1)) {
    clkm_copy_active = 0;
    return CLKM_EFAULT;
  }
  clkm_copy_jmp = &jb;
  clkm_copy_active = 1;
  memmove(kaddr, uaddr, len);
  clkm_copy_active = 0;
  return 0;
}

CLKM_MODAPI int clkm_copyout(const void *kaddr, void *uaddr, size_t len) {
  return clkm_copyin(kaddr, uaddr, len);
}

/* copyin without saving the signal mask (a system call each time): for the kernel's own small
 * copies on hot paths (pool(9) writing a struct pool). The fault handler runs with the mask it
 * interrupted (SA_NODEFER, no sa_mask), so a jump out of it finds the mask as it was. */
int clkm_copy_quick(const void *from, void *to, size_t len) {
  sigjmp_buf jb;
  if (sigsetjmp(jb, 0)) {
    clkm_copy_active = 0;
    return CLKM_EFAULT;
  }
  clkm_copy_jmp = &jb;
  clkm_copy_active = 1;
  memmove(to, from, len);
  clkm_copy_active = 0;
  return 0;
}

/* kcopy(9): a copy between kernel addresses that returns EFAULT instead of faulting. */
CLKM_MODAPI int clkm_kcopy(const void *from, void *to, size_t len) {
  return clkm_copyin(from, to, len);
}

/* copyinstr and copyoutstr: the string at from with its NUL, at most len bytes: 0, ENAMETOOLONG
 * when len bytes hold no NUL (all len copied), EFAULT at a bad address on either side. *done:
 * the bytes copied, the NUL included (on EFAULT, those copied before the fault). */
CLKM_MODAPI static int copy_string(const void *from_address, void *to_address, size_t len, size_t *done) {
  sigjmp_buf jb;
  volatile size_t i = 0;
  if (sigsetjmp(jb, 1)) {
    clkm_copy_active = 0;
    /* As OpenBSD's copystr: the bytes copied before the fault. */
    if (done != NULL) *done = i;
    return CLKM_EFAULT;
  }
  clkm_copy_jmp = &jb;
  clkm_copy_active = 1;
  const volatile char *from = from_address;
  volatile char *to = to_address;
  int error = CLKM_ENAMETOOLONG;
  for (; i < len; i++) {
    char c = from[i];
    to[i] = c;
    if (c == 0) {
      i++;
      error = 0;
      break;
    }
  }
  clkm_copy_active = 0;
  if (done != NULL) *done = i;
  return error;
}

CLKM_MODAPI int clkm_copyinstr(const void *uaddr, void *kaddr, size_t len, size_t *done) {
  return copy_string(uaddr, kaddr, len, done);
}

CLKM_MODAPI int clkm_copyoutstr(const void *kaddr, void *uaddr, size_t len, size_t *done) {
  return copy_string(kaddr, uaddr, len, done);
}

/* ---- System calls built into the kernel ---- */
CLKM_MODAPI int clkm_nosys(struct clkm_proc *p, void *v, clkm_register_t *retval) {
  (void)p;
  (void)v;
  (void)retval;
  return CLKM_ENOSYS;
}

CLKM_MODAPI int clkm_sys_lkmnosys(struct clkm_proc *p, void *v, clkm_register_t *retval) {
  return clkm_nosys(p, v, retval);
}

/* Placeholders of the device switches that OpenBSD's conf.h macros name (enodev, lkmenodev and
 * nullop are kern_conf.c's). */
CLKM_MODAPI int clkm_enxio(void) { return CLKM_ENXIO; }

/* POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM (POLLWRNORM is POLLOUT), as <sys/poll.h> has them. */
#define SELTRUE_EVENTS (0x0001 | 0x0004 | 0x0040)

CLKM_MODAPI int clkm_seltrue(clkm_dev_t dev, int events, struct clkm_proc *p) {
  (void)dev;
  (void)p;
  return events & SELTRUE_EVENTS;
}

CLKM_MODAPI int clkm_selfalse(clkm_dev_t dev, int events, struct clkm_proc *p) {
  (void)dev;
  (void)events;
  (void)p;
  return 0;
}

/* There is no kqueue to attach a knote to. */
CLKM_MODAPI int clkm_seltrue_kqfilter(clkm_dev_t dev, void *kn) {
  (void)dev;
  (void)kn;
  return CLKM_EOPNOTSUPP;
}

/* ---- Exported to modules ---- */

size_t clkm_subr_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("lkm_curproc", clkm_current_proc),
      CLKM_FUNC("memcpy", clkm_memcpy),   CLKM_FUNC("memmove", clkm_memmove),
      CLKM_FUNC("memset", clkm_memset),   CLKM_FUNC("memcmp", clkm_memcmp),
      CLKM_FUNC("bcopy", clkm_bcopy),     CLKM_FUNC("bzero", clkm_bzero),
      CLKM_FUNC("strlen", clkm_strlen),   CLKM_FUNC("strcmp", clkm_strcmp),
      CLKM_FUNC("strncmp", clkm_strncmp), CLKM_FUNC("strchr", clkm_strchr),
      CLKM_FUNC("strrchr", clkm_strrchr), CLKM_FUNC("strlcpy", clkm_strlcpy),
      CLKM_FUNC("strlcat", clkm_strlcat), CLKM_FUNC("copyin", clkm_copyin),
      CLKM_FUNC("copyout", clkm_copyout), CLKM_FUNC("copyinstr", clkm_copyinstr),
      CLKM_FUNC("copyoutstr", clkm_copyoutstr), CLKM_FUNC("kcopy", clkm_kcopy),
      CLKM_FUNC("enxio", clkm_enxio),     CLKM_FUNC("seltrue", clkm_seltrue),
      CLKM_FUNC("selfalse", clkm_selfalse), CLKM_FUNC("seltrue_kqfilter", clkm_seltrue_kqfilter),
      CLKM_FUNC("sys_lkmnosys", clkm_sys_lkmnosys), CLKM_FUNC("nosys", clkm_nosys),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
