/* Thread-local storage for modules: the kernel's static TLS reservation.
 *
 * A module's thread-local variables get a range of clkm_tls_reserve, a __thread array of the
 * kernel's own executable (initial-exec): the same offset from the thread pointer in every
 * thread, so that every TLS model reduces to that offset (the linker writes it; see
 * ModuleLinker's StaticTLS). The kernel's threads mostly exist before a module loads (request
 * threads, the callout thread), so a module's initial values cannot come from the TLS
 * initialization image ld.so copies into new threads: the kernel keeps each loaded module's
 * image here, numbered by a generation that grows with every load, and a thread that enters
 * module code (every guarded call, kern_trap.c's enter) copies in the images of the modules
 * loaded since its last entry, .tdata then zeros for .tbss. Unloading forgets the image; the
 * range goes back to the linker, and whichever module gets it next is copied over it in every
 * thread before its code runs there. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

__thread unsigned char clkm_tls_reserve[CLKM_TLS_RESERVE]
    __attribute__((aligned(CLKM_TLS_ALIGNMENT), tls_model("initial-exec")));

/* The generation of the newest image this thread copied in (0: none yet). */
static __thread uint64_t tls_seen __attribute__((tls_model("initial-exec")));

#define MAX_TLS_BLOCKS 1024
static struct tls_block {
  long offset; /* from the thread pointer */
  size_t size, zeros;
  unsigned char *image;
  uint64_t generation;
} blocks[MAX_TLS_BLOCKS];
static int nblocks;
static uint64_t generation; /* the newest block's, read without the lock */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;

static char *thread_pointer(void) {
  char *tp;
  __asm__("movq %%fs:0, %0" : "=r"(tp));
  return tp;
}

void *clkm_tls_reserve_address(void) { return clkm_tls_reserve; }

int clkm_tls_install(long offset, const void *bytes, size_t size, size_t zeros) {
  unsigned char *image = malloc(size ? size : 1);
  if (image == NULL) return -1;
  if (size) memcpy(image, bytes, size);
  pthread_mutex_lock(&tls_lock);
  if (nblocks == MAX_TLS_BLOCKS) {
    pthread_mutex_unlock(&tls_lock);
    free(image);
    return -1;
  }
  uint64_t g = generation + 1;
  blocks[nblocks++] = (struct tls_block){offset, size, zeros, image, g};
  __atomic_store_n(&generation, g, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&tls_lock);
  return 0;
}

void clkm_tls_release(long offset) {
  pthread_mutex_lock(&tls_lock);
  for (int i = 0; i < nblocks; i++) {
    if (blocks[i].offset != offset) continue;
    /* The calling thread's copy goes now; the others' when the range is given again. */
    memset(thread_pointer() + offset, 0, blocks[i].size + blocks[i].zeros);
    free(blocks[i].image);
    blocks[i] = blocks[--nblocks];
    break;
  }
  pthread_mutex_unlock(&tls_lock);
}

void clkm_tls_refresh(void) {
  uint64_t now = __atomic_load_n(&generation, __ATOMIC_ACQUIRE);
  if (tls_seen == now) return;
  pthread_mutex_lock(&tls_lock);
  char *tp = thread_pointer();
  for (int i = 0; i < nblocks; i++) {
    const struct tls_block *b = &blocks[i];
    if (b->generation <= tls_seen) continue;
    memcpy(tp + b->offset, b->image, b->size);
    memset(tp + b->offset + b->size, 0, b->zeros);
  }
  tls_seen = generation;
  pthread_mutex_unlock(&tls_lock);
}
