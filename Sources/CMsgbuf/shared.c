/* See include/lkmshared.h. */
#include "lkmshared.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

size_t lkm_shared_size(void) {
  size_t page = 4096;
  return (sizeof(lkm_shared_t) + page - 1) & ~(page - 1);
}

void lkm_shared_init(lkm_shared_t *shared) {
  memset(shared, 0, sizeof *shared);
  lkm_shared_init_zeroed(shared);
}

void lkm_shared_init_zeroed(lkm_shared_t *shared) {
  shared->magic = LKM_SHARED_MAGIC;
  shared->size = (uint32_t)sizeof *shared;
  shared->entered_module = -1;
}

int lkm_shared_valid(const lkm_shared_t *shared) {
  return shared->magic == LKM_SHARED_MAGIC && shared->size == sizeof *shared;
}

uint32_t lkm_msgbuf_stamp_check(uint64_t at, int64_t ns, uint32_t length) {
  uint64_t h = at * 0x9e3779b97f4a7c15u ^ (uint64_t)ns * 0xc2b2ae3d27d4eb4fu ^ length;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9u;
  h ^= h >> 32;
  return (uint32_t)h | 1u; /* never 0: 0 marks a record being written */
}

/* Records when the write at [at, at + n) was made. The check word is cleared first and stored
 * last, so that a reader racing the writer sees a mismatch rather than a mixed record. */
static void record_stamp(lkm_shared_t *shared, uint64_t at, size_t n) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return;
  int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
  uint64_t i = __atomic_fetch_add(&shared->stamps_written, 1, __ATOMIC_RELAXED);
  lkm_msgbuf_stamp_t *s = &shared->stamps[i % LKM_MSGBUF_STAMPS];
  __atomic_store_n(&s->check, 0, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_store_n(&s->at, at, __ATOMIC_RELAXED);
  __atomic_store_n(&s->ns, ns, __ATOMIC_RELAXED);
  __atomic_store_n(&s->length, (uint32_t)n, __ATOMIC_RELAXED);
  __atomic_store_n(&s->check, lkm_msgbuf_stamp_check(at, ns, (uint32_t)n), __ATOMIC_RELEASE);
}

void lkm_msgbuf_write(lkm_shared_t *shared, const char *text, size_t n) {
  if (n == 0) return;
  if (n > LKM_MSGBUF_SIZE) {
    text += n - LKM_MSGBUF_SIZE;
    n = LKM_MSGBUF_SIZE;
  }
  uint64_t at = __atomic_fetch_add(&shared->msg_written, (uint64_t)n, __ATOMIC_ACQ_REL);
  /* A line begins in this write if the byte before it ends one (read as it is: a concurrent
   * writer's byte may not be there yet, and the line then takes the time of the write before)
   * or a newline inside it is followed by more text. */
  int begins =
      at == 0 ||
      __atomic_load_n(&shared->msg[(at - 1) % LKM_MSGBUF_SIZE], __ATOMIC_RELAXED) == '\n' ||
      (n > 1 && memchr(text, '\n', n - 1) != NULL);
  if (begins) record_stamp(shared, at, n);
  size_t offset = (size_t)(at % LKM_MSGBUF_SIZE);
  size_t first = LKM_MSGBUF_SIZE - offset;
  if (first > n) first = n;
  memcpy(shared->msg + offset, text, first);
  if (n > first) memcpy(shared->msg, text + first, n - first);
}

size_t lkm_msgbuf_read_from(const lkm_shared_t *shared, char *buf, size_t size, uint64_t *from) {
  uint64_t written = __atomic_load_n(&shared->msg_written, __ATOMIC_ACQUIRE);
  size_t held = written < LKM_MSGBUF_SIZE ? (size_t)written : LKM_MSGBUF_SIZE;
  size_t n = held < size ? held : size;
  if (buf == NULL) {
    *from = written - held;
    return held;
  }
  *from = written - n;
  for (size_t i = 0; i < n; i++) buf[i] = shared->msg[(*from + i) % LKM_MSGBUF_SIZE];
  return n;
}

size_t lkm_msgbuf_read(const lkm_shared_t *shared, char *buf, size_t size) {
  uint64_t from;
  return lkm_msgbuf_read_from(shared, buf, size, &from);
}

static int compare_stamps(const void *a, const void *b) {
  const lkm_msgbuf_stamp_t *x = a, *y = b;
  if (x->at != y->at) return x->at < y->at ? -1 : 1;
  return x->ns < y->ns ? -1 : x->ns > y->ns;
}

size_t lkm_msgbuf_stamps(const lkm_shared_t *shared, uint64_t from, uint64_t to,
                         lkm_msgbuf_stamp_t *out, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < LKM_MSGBUF_STAMPS && count < n; i++) {
    const lkm_msgbuf_stamp_t *s = &shared->stamps[i];
    uint32_t check = __atomic_load_n(&s->check, __ATOMIC_ACQUIRE);
    lkm_msgbuf_stamp_t copy;
    copy.at = __atomic_load_n(&s->at, __ATOMIC_RELAXED);
    copy.ns = __atomic_load_n(&s->ns, __ATOMIC_RELAXED);
    copy.length = __atomic_load_n(&s->length, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (check == 0 || __atomic_load_n(&s->check, __ATOMIC_RELAXED) != check) continue;
    if (check != lkm_msgbuf_stamp_check(copy.at, copy.ns, copy.length)) continue;
    if (copy.length == 0 || copy.length > LKM_MSGBUF_SIZE) continue;
    if (copy.at >= to || copy.at > UINT64_MAX - copy.length || copy.at + copy.length <= from)
      continue;
    copy.check = check;
    out[count++] = copy;
  }
  qsort(out, count, sizeof *out, compare_stamps);
  return count;
}

static void copy_name(char *to, size_t size, const char *from) {
  size_t i = 0;
  for (; i + 1 < size && from[i] != 0; i++) to[i] = from[i];
  to[i] = 0;
}

void lkm_status_clear(lkm_shared_t *shared, int32_t kernel_pid) {
  shared->kernel_pid = kernel_pid;
  shared->boots++;
  shared->entered_module = -1;
  shared->entered_running = 0;
  shared->entered_what[0] = 0;
  shared->entered_name[0] = 0;
  shared->nmodules = 0;
  shared->lock_since = 0;
}

void lkm_status_add_module(lkm_shared_t *shared, int32_t id, const char *name, uint64_t base,
                           uint64_t size) {
  uint32_t n = shared->nmodules;
  if (n >= LKM_STATUS_MODULES) return;
  lkm_status_module_t *m = &shared->modules[n];
  m->id = id;
  m->faulted = 0;
  m->base = base;
  m->size = size;
  copy_name(m->name, sizeof m->name, name);
  shared->nmodules = n + 1;
}

void lkm_status_remove_module(lkm_shared_t *shared, int32_t id) {
  uint32_t n = shared->nmodules;
  if (n > LKM_STATUS_MODULES) n = LKM_STATUS_MODULES;
  for (uint32_t i = 0; i < n; i++) {
    if (shared->modules[i].id == id) {
      memmove(&shared->modules[i], &shared->modules[i + 1], (n - i - 1) * sizeof shared->modules[0]);
      shared->nmodules = n - 1;
      return;
    }
  }
}

void lkm_status_mark_faulted(lkm_shared_t *shared, int32_t id) {
  uint32_t n = shared->nmodules;
  if (n > LKM_STATUS_MODULES) n = LKM_STATUS_MODULES;
  for (uint32_t i = 0; i < n; i++)
    if (shared->modules[i].id == id) shared->modules[i].faulted = 1;
}

void lkm_status_enter(lkm_shared_t *shared, int32_t id, const char *what, int running) {
  if (running) {
    shared->entered_module = id;
    if (what != NULL) copy_name(shared->entered_what, sizeof shared->entered_what, what);
    shared->entered_name[0] = 0;
    uint32_t n = shared->nmodules;
    if (n > LKM_STATUS_MODULES) n = LKM_STATUS_MODULES;
    for (uint32_t i = 0; i < n; i++)
      if (shared->modules[i].id == id)
        copy_name(shared->entered_name, sizeof shared->entered_name, shared->modules[i].name);
  }
  __atomic_store_n(&shared->entered_running, running ? 1 : 0, __ATOMIC_RELEASE);
}

uint32_t lkm_status_module_count(const lkm_shared_t *shared) {
  uint32_t n = shared->nmodules;
  return n > LKM_STATUS_MODULES ? LKM_STATUS_MODULES : n;
}

int lkm_status_module_at(const lkm_shared_t *shared, uint32_t i, lkm_status_module_t *out) {
  if (i >= LKM_STATUS_MODULES) return -1;
  *out = shared->modules[i];
  out->name[LKM_STATUS_NAME - 1] = 0;
  return 0;
}

void lkm_status_entered(const lkm_shared_t *shared, int32_t *id, int32_t *running, char *what,
                        size_t what_size, char *name, size_t name_size) {
  *id = shared->entered_module;
  *running = shared->entered_running;
  size_t i = 0;
  for (; i + 1 < what_size && i < LKM_STATUS_WHAT && shared->entered_what[i] != 0; i++)
    what[i] = shared->entered_what[i];
  if (what_size) what[i] = 0;
  i = 0;
  for (; i + 1 < name_size && i < LKM_STATUS_NAME && shared->entered_name[i] != 0; i++)
    name[i] = shared->entered_name[i];
  if (name_size) name[i] = 0;
}

void lkm_status_lock(lkm_shared_t *shared, int taken) {
  uint64_t now = 0;
  if (taken) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (now == 0) now = 1;
  }
  __atomic_store_n(&shared->lock_since, now, __ATOMIC_RELEASE);
}

uint64_t lkm_status_lock_since(const lkm_shared_t *shared) {
  return __atomic_load_n(&shared->lock_since, __ATOMIC_ACQUIRE);
}
