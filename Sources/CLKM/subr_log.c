/* The message buffer (a ring, like OpenBSD's msgbuf) and the kernel's status, in memory shared
 * with the supervisor (lkmshared.h) once attached, so that they survive the kernel process
 * (a private mapping before, and in a kernel embedded in another process: the sandbox); the
 * console (standard output); and what uprintf gathers for the requesting process. The bottom of
 * the kernel's C files: it calls none of the others. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
    lkm_shared_init_zeroed(shared_area); /* fresh anonymous memory: zeros, not yet resident */
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

size_t clkm_msgbuf_read_from(char *buf, size_t size, uint64_t *from) {
  return lkm_msgbuf_read_from(clkm_shared(), buf, size, from);
}

size_t clkm_msgbuf_stamps(uint64_t from, uint64_t to, uint64_t *at, uint32_t *length,
                          int64_t *ns, size_t n) {
  if (n > LKM_MSGBUF_STAMPS) n = LKM_MSGBUF_STAMPS;
  lkm_msgbuf_stamp_t *records = malloc(n * sizeof *records + 1);
  if (records == NULL) return 0;
  size_t count = lkm_msgbuf_stamps(clkm_shared(), from, to, records, n);
  for (size_t i = 0; i < count; i++) {
    at[i] = records[i].at;
    length[i] = records[i].length;
    ns[i] = records[i].ns;
  }
  free(records);
  return count;
}

/* ---- Oopses per kernel thread ---- */
static __thread uint64_t thread_oopses;

void clkm_count_oops(void) { thread_oopses++; }

uint64_t clkm_thread_oopses(void) { return thread_oopses; }

/* ---- uprintf: text for the requesting process ---- */
#define UBUF_SIZE (64 * 1024)
/* Per thread: each kernel thread serves one request at a time. */
static __thread char *ubuf;
static __thread size_t ubuf_length;

size_t clkm_uprintf_take(char *buf, size_t size) {
  size_t n = ubuf_length < size ? ubuf_length : size;
  if (buf != NULL && n > 0) memcpy(buf, ubuf, n);
  ubuf_length = 0;
  return n;
}

size_t clkm_uprintf_pending(void) { return ubuf_length; }

void clkm_print_user(const char *text, size_t n) {
  if (ubuf == NULL && (ubuf = malloc(UBUF_SIZE)) == NULL) return;
  size_t room = UBUF_SIZE - ubuf_length;
  size_t take = n < room ? n : room;
  memcpy(ubuf + ubuf_length, text, take);
  ubuf_length += take;
}


void clkm_logf(const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  clkm_log_text(line);
}

size_t clkm_copy_exports(clkm_export_t *table, size_t room, const clkm_export_t *list, size_t n) {
  if (n > room) return 0;
  memcpy(table, list, n * sizeof *list);
  return n;
}
