/* GDB's JIT interface: the descriptor and the function gdb puts a breakpoint on, and the list
 * of registered objects (see cdebuginfo.h). The layout is gdb's (version 1): descriptor
 * {u32 version, u32 action_flag, relevant_entry, first_entry}, entry {next, prev,
 * symfile_addr, u64 symfile_size}. */
#include "cdebuginfo.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { JIT_NOACTION = 0, JIT_REGISTER_FN = 1, JIT_UNREGISTER_FN = 2 };

struct jit_code_entry {
  struct jit_code_entry *next_entry;
  struct jit_code_entry *prev_entry;
  const char *symfile_addr;
  uint64_t symfile_size;
};

struct jit_descriptor {
  uint32_t version;
  uint32_t action_flag;
  struct jit_code_entry *relevant_entry;
  struct jit_code_entry *first_entry;
};

/* gdb breaks here; it must stay a real call (noinline, an asm the compiler cannot drop) and
 * keep its name through linking (used, default visibility). */
__attribute__((used, noinline, visibility("default"))) void __jit_debug_register_code(void) {
  __asm__ volatile("" ::: "memory");
}

__attribute__((used, visibility("default"))) struct jit_descriptor __jit_debug_descriptor = {
    1, JIT_NOACTION, NULL, NULL};

struct cdi_jit_entry {
  struct jit_code_entry entry;
  int registered;
  uint64_t size;
  _Alignas(16) unsigned char bytes[];
};

static pthread_mutex_t jit_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t registered_count;

cdi_jit_entry_t *cdi_jit_new(uint64_t size) {
  if (size > ((uint64_t)1 << 40)) return NULL;
  cdi_jit_entry_t *e = malloc(sizeof *e + (size_t)size);
  if (e == NULL) return NULL;
  memset(e, 0, sizeof *e);
  e->size = size;
  e->entry.symfile_addr = (const char *)e->bytes;
  e->entry.symfile_size = size;
  return e;
}

void *cdi_jit_bytes(cdi_jit_entry_t *entry) { return entry->bytes; }

uint64_t cdi_jit_size(const cdi_jit_entry_t *entry) { return entry->size; }

void cdi_jit_register(cdi_jit_entry_t *e) {
  pthread_mutex_lock(&jit_lock);
  if (!e->registered) {
    struct jit_code_entry *first = __jit_debug_descriptor.first_entry;
    e->entry.prev_entry = NULL;
    e->entry.next_entry = first;
    if (first != NULL) first->prev_entry = &e->entry;
    __jit_debug_descriptor.first_entry = &e->entry;
    __jit_debug_descriptor.relevant_entry = &e->entry;
    __jit_debug_descriptor.action_flag = JIT_REGISTER_FN;
    __jit_debug_register_code();
    __jit_debug_descriptor.action_flag = JIT_NOACTION;
    __jit_debug_descriptor.relevant_entry = NULL;
    e->registered = 1;
    registered_count++;
  }
  pthread_mutex_unlock(&jit_lock);
}

void cdi_jit_free(cdi_jit_entry_t *e) {
  pthread_mutex_lock(&jit_lock);
  if (e->registered) {
    /* gdb reads the entry while the process stops in __jit_debug_register_code: unlink it
     * after. */
    __jit_debug_descriptor.relevant_entry = &e->entry;
    __jit_debug_descriptor.action_flag = JIT_UNREGISTER_FN;
    __jit_debug_register_code();
    struct jit_code_entry *prev = e->entry.prev_entry, *next = e->entry.next_entry;
    if (prev != NULL)
      prev->next_entry = next;
    else
      __jit_debug_descriptor.first_entry = next;
    if (next != NULL) next->prev_entry = prev;
    __jit_debug_descriptor.action_flag = JIT_NOACTION;
    __jit_debug_descriptor.relevant_entry = NULL;
    e->registered = 0;
    registered_count--;
  }
  pthread_mutex_unlock(&jit_lock);
  free(e);
}

uint64_t cdi_jit_count(void) {
  pthread_mutex_lock(&jit_lock);
  uint64_t n = registered_count;
  pthread_mutex_unlock(&jit_lock);
  return n;
}

int cdi_traced(void) {
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  size_t have = 0;
  for (;;) {
    ssize_t n = read(fd, buf + have, sizeof buf - 1 - have);
    if (n <= 0) break;
    have += (size_t)n;
    if (have == sizeof buf - 1) break;
  }
  close(fd);
  buf[have] = 0;
  static const char key[] = "\nTracerPid:";
  for (size_t i = 0; i + sizeof key - 1 <= have; i++) {
    if (memcmp(buf + i, key, sizeof key - 1) != 0) continue;
    const char *p = buf + i + sizeof key - 1;
    while (*p == ' ' || *p == '\t') p++;
    return *p >= '1' && *p <= '9';
  }
  return 0;
}
