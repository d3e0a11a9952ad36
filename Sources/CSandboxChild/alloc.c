/* The allocation forwarders of lkm-sandbox-child; see include/lkmsandboxchild.h. glibc exports
 * its allocator under __libc_* names, so the forwarders stay with glibc's heap. */
#define _GNU_SOURCE
#include "lkmsandboxchild.h"

#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static int32_t *volatile oom_word;

void lkmsb_set_oom_word(int32_t *word) { oom_word = word; }

static void *noted(void *p, size_t size) {
  if (p == NULL && size != 0 && oom_word != NULL) *oom_word = 1;
  return p;
}

void *malloc(size_t size) { return noted(__libc_malloc(size), size); }
void *calloc(size_t n, size_t size) { return noted(__libc_calloc(n, size), n * size); }
void *realloc(void *p, size_t size) { return noted(__libc_realloc(p, size), size); }
void *memalign(size_t alignment, size_t size) {
  return noted(__libc_memalign(alignment, size), size);
}
void *aligned_alloc(size_t alignment, size_t size) {
  return noted(__libc_memalign(alignment, size), size);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
  if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void *p = noted(__libc_memalign(alignment, size), size);
  if (p == NULL && size != 0) return ENOMEM;
  *out = p;
  return 0;
}
