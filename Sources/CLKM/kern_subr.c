/* Kernel functions modules call: strings and memory, copy(9) (a bad address is EFAULT, not a
 * crash), and the system call table with its built-in calls. (The printf family is in
 * subr_prf.c, malloc(9) in kern_malloc.c.) */
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

CLKM_MODAPI int clkm_copyinstr(const void *uaddr, void *kaddr, size_t len, size_t *done) {
  sigjmp_buf jb;
  if (sigsetjmp(jb, 1)) {
    clkm_copy_active = 0;
    return CLKM_EFAULT;
  }
  clkm_copy_jmp = &jb;
  clkm_copy_active = 1;
  const volatile char *from = uaddr;
  char *to = kaddr;
  size_t i;
  int error = CLKM_ENAMETOOLONG;
  for (i = 0; i < len; i++) {
    to[i] = from[i];
    if (from[i] == 0) {
      i++;
      error = 0;
      break;
    }
  }
  clkm_copy_active = 0;
  if (done != NULL) *done = i;
  return error;
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

static int sys_getpid(struct clkm_proc *p, void *v, clkm_register_t *retval) {
  (void)v;
  retval[0] = p->p_pid;
  return 0;
}

static int sys_getuid(struct clkm_proc *p, void *v, clkm_register_t *retval) {
  (void)v;
  retval[0] = p->p_uid;
  return 0;
}

void clkm_sysent_init(void) {
  for (int i = 0; i < CLKM_SYS_MAXSYSCALL; i++) {
    clkm_kd->sysent[i] = (struct clkm_sysent){0, 0, 0, clkm_nosys};
  }
  clkm_kd->sysent[20] = (struct clkm_sysent){0, 0, 0, sys_getpid};
  clkm_kd->sysent[24] = (struct clkm_sysent){0, 0, 0, sys_getuid};
  for (int i = 210; i <= 219; i++) clkm_kd->sysent[i] = (struct clkm_sysent){0, 0, 0, clkm_sys_lkmnosys};
}

/* ---- The process requests run for ---- */

/* Per thread: each kernel thread serves one request, for one process, at a time. */
static __thread struct clkm_proc current_proc = {0, 0, "?"};

void clkm_set_process(int pid, unsigned uid, const char *comm) {
  current_proc.p_pid = pid;
  current_proc.p_uid = uid;
  memset(current_proc.p_comm, 0, sizeof current_proc.p_comm);
  strncpy(current_proc.p_comm, comm, sizeof current_proc.p_comm - 1);
}

struct clkm_proc *clkm_current_proc(void) { return &current_proc; }

/* ---- Exported to modules ---- */

size_t clkm_subr_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("memcpy", clkm_memcpy),   CLKM_FUNC("memmove", clkm_memmove),
      CLKM_FUNC("memset", clkm_memset),   CLKM_FUNC("memcmp", clkm_memcmp),
      CLKM_FUNC("bcopy", clkm_bcopy),     CLKM_FUNC("bzero", clkm_bzero),
      CLKM_FUNC("strlen", clkm_strlen),   CLKM_FUNC("strcmp", clkm_strcmp),
      CLKM_FUNC("strncmp", clkm_strncmp), CLKM_FUNC("strchr", clkm_strchr),
      CLKM_FUNC("strrchr", clkm_strrchr), CLKM_FUNC("strlcpy", clkm_strlcpy),
      CLKM_FUNC("strlcat", clkm_strlcat), CLKM_FUNC("copyin", clkm_copyin),
      CLKM_FUNC("copyout", clkm_copyout), CLKM_FUNC("copyinstr", clkm_copyinstr),
      CLKM_FUNC("sys_lkmnosys", clkm_sys_lkmnosys), CLKM_FUNC("nosys", clkm_nosys),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
