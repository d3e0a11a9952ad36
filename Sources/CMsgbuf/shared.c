/* See include/lkmshared.h. */
#include "lkmshared.h"

#include <string.h>
#include <time.h>

size_t lkm_shared_size(void) {
  size_t page = 4096;
  return (sizeof(lkm_shared_t) + page - 1) & ~(page - 1);
}

void lkm_shared_init(lkm_shared_t *shared) {
  memset(shared, 0, sizeof *shared);
  shared->magic = LKM_SHARED_MAGIC;
  shared->size = (uint32_t)sizeof *shared;
  shared->entered_module = -1;
}

int lkm_shared_valid(const lkm_shared_t *shared) {
  return shared->magic == LKM_SHARED_MAGIC && shared->size == sizeof *shared;
}

void lkm_msgbuf_write(lkm_shared_t *shared, const char *text, size_t n) {
  if (n == 0) return;
  if (n > LKM_MSGBUF_SIZE) {
    text += n - LKM_MSGBUF_SIZE;
    n = LKM_MSGBUF_SIZE;
  }
  uint64_t at = __atomic_fetch_add(&shared->msg_written, (uint64_t)n, __ATOMIC_ACQ_REL);
  size_t offset = (size_t)(at % LKM_MSGBUF_SIZE);
  size_t first = LKM_MSGBUF_SIZE - offset;
  if (first > n) first = n;
  memcpy(shared->msg + offset, text, first);
  if (n > first) memcpy(shared->msg, text + first, n - first);
}

size_t lkm_msgbuf_read(const lkm_shared_t *shared, char *buf, size_t size) {
  uint64_t written = __atomic_load_n(&shared->msg_written, __ATOMIC_ACQUIRE);
  size_t held = written < LKM_MSGBUF_SIZE ? (size_t)written : LKM_MSGBUF_SIZE;
  size_t n = held < size ? held : size;
  if (buf == NULL) return held;
  uint64_t from = written - n;
  for (size_t i = 0; i < n; i++) buf[i] = shared->msg[(from + i) % LKM_MSGBUF_SIZE];
  return n;
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
