/* The kernel's random numbers (OpenBSD's dev/rnd.c gives the kernel arc4random,
 * arc4random_buf and arc4random_uniform): a ChaCha20 keystream of our own, keyed from the
 * host's getrandom(2) (the kernel process's seccomp filter allows it: it denies only what
 * CSandbox's kernel_denied lists), and keyed again from getrandom after every RESEED_BYTES of
 * output. After each block the generator overwrites its key with part of the block it made, so
 * that what it gave out cannot be computed back from its state (fast key erasure).
 *
 * The state lives in a page of its own marked MADV_WIPEONFORK: a child of the process (the
 * sandbox's fork server forks one per module) starts with a zeroed page, sees it is not keyed,
 * and keys itself, instead of repeating its parent's numbers. Where the host lacks
 * MADV_WIPEONFORK, the process id is compared instead. One spin lock guards the state (module
 * threads call these without the big kernel lock); output is made under it into a buffer of the
 * caller's frame and copied to the module's buffer after it is released. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#define RESEED_BYTES (1600u * 1024u)

struct rnd_state {
  volatile int lock;
  int keyed; /* 0 in a fresh (or wiped) page */
  pid_t pid; /* the process that keyed it (no MADV_WIPEONFORK) */
  uint32_t key[8];
  uint64_t counter;
  uint64_t since_key; /* bytes given out since the last getrandom */
  unsigned char block[64];
  unsigned have; /* unused bytes at the end of block */
};

static struct rnd_state *state;
static int wipes_on_fork;
static volatile int setup_lock;

static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

#define QR(a, b, c, d)                                      \
  a += b, d ^= a, d = rotl(d, 16), c += d, b ^= c, b = rotl(b, 12), \
  a += b, d ^= a, d = rotl(d, 8), c += d, b ^= c, b = rotl(b, 7)

/* One ChaCha20 block (RFC 8439's function, a 64-bit counter and a zero nonce). */
static void chacha_block(const uint32_t key[8], uint64_t counter, unsigned char out[64]) {
  uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, key[0], key[1], key[2], key[3],
                     key[4],     key[5],     key[6],     key[7],     (uint32_t)counter,
                     (uint32_t)(counter >> 32), 0, 0};
  uint32_t x[16];
  memcpy(x, in, sizeof x);
  for (int i = 0; i < 10; i++) {
    QR(x[0], x[4], x[8], x[12]);
    QR(x[1], x[5], x[9], x[13]);
    QR(x[2], x[6], x[10], x[14]);
    QR(x[3], x[7], x[11], x[15]);
    QR(x[0], x[5], x[10], x[15]);
    QR(x[1], x[6], x[11], x[12]);
    QR(x[2], x[7], x[8], x[13]);
    QR(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; i++) {
    uint32_t v = x[i] + in[i];
    out[4 * i] = (unsigned char)v;
    out[4 * i + 1] = (unsigned char)(v >> 8);
    out[4 * i + 2] = (unsigned char)(v >> 16);
    out[4 * i + 3] = (unsigned char)(v >> 24);
  }
}

static void spin(volatile int *word) {
  clkm_critical_enter();
  while (__atomic_exchange_n(word, 1, __ATOMIC_ACQUIRE)) {
    for (int spins = 0; __atomic_load_n(word, __ATOMIC_RELAXED); spins++) {
      if (spins < 64) __builtin_ia32_pause();
      else sched_yield();
    }
  }
}

static void unspin(volatile int *word) {
  __atomic_store_n(word, 0, __ATOMIC_RELEASE);
  clkm_critical_leave();
}

/* 32 bytes from getrandom(2); 0 if it fails (the host's failure, and fatal to the call: the
 * kernel must not hand out predictable numbers). */
static int host_entropy(uint32_t key[8]) {
  size_t done = 0;
  while (done < 32) {
    ssize_t n = getrandom((char *)key + done, 32 - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    done += (size_t)n;
  }
  return 1;
}

/* The state page, mapped on first use. NULL if the system refuses a page. */
static struct rnd_state *state_page(void) {
  struct rnd_state *s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
  if (s != NULL) return s;
  spin(&setup_lock);
  if (state == NULL) {
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) {
      wipes_on_fork = madvise(page, 4096, MADV_WIPEONFORK) == 0;
      __atomic_store_n(&state, (struct rnd_state *)page, __ATOMIC_RELEASE);
    }
  }
  s = state;
  unspin(&setup_lock);
  return s;
}

/* Fills out (at most a few hundred bytes) from the keystream; with the state locked. 0 when it
 * could not be keyed. */
static int generate(struct rnd_state *s, unsigned char *out, size_t n) {
  pid_t pid = wipes_on_fork ? 0 : getpid();
  if (!s->keyed || s->since_key >= RESEED_BYTES || (!wipes_on_fork && s->pid != pid)) {
    uint32_t fresh[8];
    if (!host_entropy(fresh)) return 0;
    for (int i = 0; i < 8; i++) s->key[i] ^= fresh[i];
    memset(fresh, 0, sizeof fresh);
    s->counter = 0;
    s->since_key = 0;
    s->have = 0;
    s->pid = pid;
    s->keyed = 1;
  }
  while (n > 0) {
    if (s->have == 0) {
      /* A block: its first 32 bytes become the next key, the other 32 are output. */
      unsigned char block[64];
      chacha_block(s->key, s->counter++, block);
      memcpy(s->key, block, 32);
      memcpy(s->block + 32, block + 32, 32);
      memset(block, 0, sizeof block);
      s->have = 32;
    }
    size_t take = n < s->have ? n : s->have;
    unsigned char *from = s->block + 64 - s->have;
    memcpy(out, from, take);
    memset(from, 0, take);
    s->have -= (unsigned)take;
    s->since_key += take;
    out += take;
    n -= take;
  }
  return 1;
}

/* Kernel code (the lock is held): never inlined into the functions for modules. */
__attribute__((noinline)) static const char *fill(unsigned char *out, size_t n) {
  struct rnd_state *s = state_page();
  if (s == NULL) return "arc4random: no memory for the generator's state";
  spin(&s->lock);
  int keyed = generate(s, out, n);
  unspin(&s->lock);
  return keyed ? NULL : "arc4random: getrandom(2) failed";
}

static void fill_or_panic(unsigned char *out, size_t n, void *pc) {
  const char *failure = fill(out, n);
  if (failure != NULL) clkm_guard_panic(failure, pc);
}

CLKM_MODAPI void clkm_arc4random_buf(void *buf, size_t n) {
  void *pc = __builtin_return_address(0);
  unsigned char chunk[256];
  unsigned char *to = buf;
  while (n > 0) {
    size_t take = n < sizeof chunk ? n : sizeof chunk;
    fill_or_panic(chunk, take, pc);
    /* The module's buffer is written here, outside the lock: a bad one is the module's fault. */
    memcpy(to, chunk, take);
    to += take;
    n -= take;
  }
  memset(chunk, 0, sizeof chunk);
}

CLKM_MODAPI uint32_t clkm_arc4random(void) {
  uint32_t v;
  fill_or_panic((unsigned char *)&v, sizeof v, __builtin_return_address(0));
  return v;
}

/* Uniform in [0, upper_bound): numbers below 2^32 mod upper_bound are drawn again, so that every
 * remainder is equally likely (OpenBSD's method). 0 for an upper bound below 2. */
CLKM_MODAPI uint32_t clkm_arc4random_uniform(uint32_t upper_bound) {
  if (upper_bound < 2) return 0;
  uint32_t min = -upper_bound % upper_bound;
  void *pc = __builtin_return_address(0);
  for (;;) {
    uint32_t r;
    fill_or_panic((unsigned char *)&r, sizeof r, pc);
    if (r >= min) return r % upper_bound;
  }
}

size_t clkm_rnd_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("arc4random", clkm_arc4random),
      CLKM_FUNC("arc4random_buf", clkm_arc4random_buf),
      CLKM_FUNC("arc4random_uniform", clkm_arc4random_uniform),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
