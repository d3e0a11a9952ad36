/* The kernel functions modules call (string and copy functions; the printf family is in
 * subr_prf.c, malloc(9) in kern_malloc.c), the message buffer, and the exported symbol table. */
#define _GNU_SOURCE
#include "clkm.h"
#include "clkm_abi.h"
#include "lkmshared.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__thread int clkm_current_module __attribute__((tls_model("initial-exec"))) = -1;

/* ---- Message buffer (a ring, like OpenBSD's msgbuf) and console ----
 * The ring lives in memory shared with the supervisor (lkmshared.h) when one is attached, so
 * that it survives the kernel process; otherwise in a private mapping. */
static lkm_shared_t *shared_area;
static int console_enabled = 1;
/* Keeps one printf's message-buffer and console writes together, and guards the uprintf
 * buffer (module threads print too). Held only over kernel memory and write(2), never while
 * module memory is read. */
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

lkm_shared_t *clkm_shared(void) {
  if (shared_area == NULL) {
    void *p = mmap(NULL, lkm_shared_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) abort();
    shared_area = p;
    lkm_shared_init(shared_area);
  }
  return shared_area;
}

void clkm_attach_shared(void *area) {
  shared_area = area;
  if (!lkm_shared_valid(shared_area)) lkm_shared_init(shared_area);
  lkm_status_clear(shared_area, (int32_t)getpid());
}

size_t clkm_shared_size(void) { return lkm_shared_size(); }

void clkm_msgbuf_append(const char *text, size_t n) { lkm_msgbuf_write(clkm_shared(), text, n); }

void clkm_console_write(const char *text, size_t n) {
  if (!console_enabled) return;
  while (n > 0) {
    ssize_t w = write(1, text, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    text += w;
    n -= (size_t)w;
  }
}

void clkm_set_console(int enabled) { console_enabled = enabled; }

void clkm_print_text(const char *text, size_t n) {
  pthread_mutex_lock(&print_lock);
  clkm_msgbuf_append(text, n);
  clkm_console_write(text, n);
  pthread_mutex_unlock(&print_lock);
}

void clkm_log_text(const char *text) { clkm_print_text(text, strlen(text)); }

size_t clkm_msgbuf_read(char *buf, size_t size) {
  return lkm_msgbuf_read(clkm_shared(), buf, size);
}

/* ---- uprintf: text for the requesting process ---- */
#define UBUF_SIZE (64 * 1024)
static char ubuf[UBUF_SIZE];
static size_t ubuf_length;

size_t clkm_uprintf_take(char *buf, size_t size) {
  pthread_mutex_lock(&print_lock);
  size_t n = ubuf_length < size ? ubuf_length : size;
  if (buf != NULL) memcpy(buf, ubuf, n);
  ubuf_length = 0;
  pthread_mutex_unlock(&print_lock);
  return n;
}

void clkm_print_user(const char *text, size_t n) {
  pthread_mutex_lock(&print_lock);
  size_t room = UBUF_SIZE - ubuf_length;
  size_t take = n < room ? n : room;
  memcpy(ubuf + ubuf_length, text, take);
  ubuf_length += take;
  pthread_mutex_unlock(&print_lock);
}

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
__thread sigjmp_buf *volatile clkm_copy_jmp __attribute__((tls_model("initial-exec")));
__thread volatile int clkm_copy_active __attribute__((tls_model("initial-exec")));

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

/* ---- The exported symbol table ---- */
int clkm_lkm_nofunc(struct lkm_table *, int);
int clkm_lkmexists(struct lkm_table *);
struct lkm_table *clkm_lkm_list(struct lkm_table *);
int clkm_lkmdispatch(struct lkm_table *, int);

#define FUNC(name, fn) {name, (void *)(fn), 1}
#define DATA(name, var) {name, (void *)(var), 0}

size_t clkm_device_exports(clkm_export_t *table, size_t room);

const clkm_export_t *clkm_export_table(size_t *count) {
  static clkm_export_t table[128];
  static size_t n;
  if (n == 0) {
    clkm_export_t entries[] = {
        FUNC("printf", clkm_printf), FUNC("vprintf", clkm_vprintf), FUNC("uprintf", clkm_uprintf),
        FUNC("log", clkm_log), FUNC("panic", clkm_panic), FUNC("puts", clkm_puts),
        FUNC("putchar", clkm_putchar), FUNC("snprintf", clkm_snprintf),
        FUNC("vsnprintf", clkm_vsnprintf),
        FUNC("malloc", clkm_malloc), FUNC("free", clkm_free),
        FUNC("memcpy", clkm_memcpy), FUNC("memmove", clkm_memmove), FUNC("memset", clkm_memset),
        FUNC("memcmp", clkm_memcmp), FUNC("bcopy", clkm_bcopy), FUNC("bzero", clkm_bzero),
        FUNC("strlen", clkm_strlen), FUNC("strcmp", clkm_strcmp), FUNC("strncmp", clkm_strncmp),
        FUNC("strchr", clkm_strchr), FUNC("strrchr", clkm_strrchr),
        FUNC("strlcpy", clkm_strlcpy), FUNC("strlcat", clkm_strlcat),
        FUNC("copyin", clkm_copyin), FUNC("copyout", clkm_copyout),
        FUNC("copyinstr", clkm_copyinstr),
        FUNC("lkmexists", clkm_lkmexists), FUNC("lkm_list", clkm_lkm_list),
        FUNC("lkmdispatch", clkm_lkmdispatch), FUNC("lkm_nofunc", clkm_lkm_nofunc),
        FUNC("sys_lkmnosys", clkm_sys_lkmnosys), FUNC("nosys", clkm_nosys),
        DATA("sysent", clkm_kd->sysent), DATA("nsysent", &clkm_kd->nsysent),
        DATA("hz", &clkm_kd->hz), DATA("time_second", &clkm_kd->time_second),
        DATA("securelevel", &clkm_kd->securelevel), DATA("hostname", clkm_kd->hostname),
        DATA("version", clkm_kd->version),
    };
    n = sizeof entries / sizeof entries[0];
    memcpy(table, entries, sizeof entries);
    n += clkm_device_exports(table + n, sizeof table / sizeof table[0] - n);
  }
  *count = n;
  return table;
}
