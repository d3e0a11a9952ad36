/* pool(9): fixed-size items, OpenBSD 5.2's interface (sys/kern/subr_pool.c), on pages of the
 * kernel's own.
 *
 * Design. A module's struct pool is the module's memory: it may write anything into it. So the
 * pool's real state is the kernel's (struct kpool, found by the struct's address in a hash
 * table), and the struct only receives a copy of the statistics after each call, written with a
 * fault-catching copy and never read back. A call on an address that is not an initialised
 * pool is a panic of the calling module. Likewise what the kernel knows of each page (struct
 * ppage: its pool, which items are out, found by the page's address) lives away from the
 * items, so a pool_put is checked against it: a pointer that is not the start of an item the
 * pool handed out, or an item put back twice, is a panic naming what was found (the pool the
 * pointer belongs to, when it is another's).
 *
 * Pages are mappings of their own (mmap), aligned to their size, never glibc's heap and never
 * malloc(9)'s slabs (a module's free() cannot release one: it is not an address malloc
 * returned). Items that are not out hold the pattern 0xdeafbeef; pool_get checks it, so a write
 * after pool_put is found (OpenBSD's DIAGNOSTIC check). A pool belongs to the module current
 * when pool_init ran: when that module goes (or fails to load), each pool it did not destroy,
 * and each whose struct lies in its image, is destroyed with its items and reported
 * (clkm_module_pools_release).
 *
 * Locking: every call runs with the big kernel lock (taken here for threads a module started,
 * which do not hold it). That is what makes PR_WAITOK's sleep safe: tsleep(pp) lets go of the
 * lock only while asleep, and pool_put, holding it, calls wakeup(pp) after the sleeper is
 * registered. The bookkeeping is a critical section (no watchdog unwinds through it) that
 * touches only kernel memory; module memory (the struct, items, the wchan string) is read and
 * written outside it: the struct with copyin/copyout, items in functions for modules, after the
 * lock is let go where a fault could otherwise leave it held. Nothing panics inside the
 * critical section. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* sys/pool.h */
#define PR_WAITOK 0x0001
#define PR_NOWAIT 0x0002
#define PR_LIMITFAIL 0x0004
#define PR_ZERO 0x0008
#define PR_WANTED 0x0100
#define PSWP 0

#define PAGE 4096u
#define MAX_ITEM (64u * 1024u)
#define MAX_PAGE (512u * 1024u)
#define POISON 0xdeafbeefu
#define NAME_BYTES 32
#define WARNING_BYTES 128

enum { EMPTY, PARTIAL, FULL };

struct kpool;

/* One page: its items are at base + off0 + i * size; bit i of out is set while item i is out. */
struct ppage {
  char *base;
  struct kpool *pool;
  unsigned nout;
  int list;
  struct ppage *next, *prev; /* in pool->lists[list] */
  struct ppage *hnext;       /* page hash chain */
  uint64_t out[];
};

struct kpool {
  uintptr_t key; /* the module's struct pool */
  struct kpool *hnext;
  unsigned serial;
  int owner; /* module id, -1 the kernel */
  char wchan[NAME_BYTES];
  const char *wchan_given; /* the module's pointers, echoed in the struct */
  void *alloc_given;
  const char *warning_given;
  int roflags;
  unsigned size, align, ioff, off0, pgsize, itemsperpage, slack;
  unsigned minitems, minpages, maxpages, hardlimit;
  unsigned nout, nitems, npages, nidle, hiwat;
  unsigned long nget, nput, nfail, npagealloc, npagefree;
  char warning[WARNING_BYTES];
  int has_warning;
  long ratecap;
  struct timespec last_warning; /* uptime (monotonic); 0: never */
  int waiting;   /* pool_get calls asleep on it */
  int destroyed; /* out of the table; freed by the last sleeper */
  struct ppage *lists[3];
};

#define POOL_BUCKETS 256
#define PAGE_BUCKETS 4096
static struct kpool *pools[POOL_BUCKETS];
static struct ppage *pages[PAGE_BUCKETS];
static unsigned serials;

/* ---- Tables ---- */

static unsigned pool_bucket(uintptr_t key) { return (unsigned)((key >> 4) % POOL_BUCKETS); }
static unsigned page_bucket(const char *base) {
  return (unsigned)(((uintptr_t)base >> 12) % PAGE_BUCKETS);
}

static struct kpool *pool_find(const void *pp) {
  for (struct kpool *k = pools[pool_bucket((uintptr_t)pp)]; k != NULL; k = k->hnext)
    if (k->key == (uintptr_t)pp) return k;
  return NULL;
}

static void pool_unhash(struct kpool *kp) {
  struct kpool **link = &pools[pool_bucket(kp->key)];
  while (*link != kp) link = &(*link)->hnext;
  *link = kp->hnext;
}

/* The page of any pool whose memory holds p, or NULL. */
static struct ppage *page_containing(const void *p) {
  for (unsigned size = PAGE; size <= MAX_PAGE; size <<= 1) {
    const char *base = (const char *)((uintptr_t)p & ~(uintptr_t)(size - 1));
    for (struct ppage *g = pages[page_bucket(base)]; g != NULL; g = g->hnext)
      if (g->base == base && g->pool->pgsize == size) return g;
  }
  return NULL;
}

/* ---- Page lists ---- */

static void list_push(struct kpool *kp, struct ppage *g, int list) {
  g->list = list;
  g->prev = NULL;
  g->next = kp->lists[list];
  if (g->next) g->next->prev = g;
  kp->lists[list] = g;
}

static void list_unlink(struct kpool *kp, struct ppage *g) {
  if (g->prev) g->prev->next = g->next;
  else kp->lists[g->list] = g->next;
  if (g->next) g->next->prev = g->prev;
  g->next = g->prev = NULL;
}

static void list_move(struct kpool *kp, struct ppage *g, int list) {
  list_unlink(kp, g);
  list_push(kp, g, list);
}

/* ---- Items and poison ---- */

static char *item_at(const struct kpool *kp, const struct ppage *g, unsigned i) {
  return g->base + kp->off0 + (size_t)i * kp->size;
}

/* The pattern's bytes from an item's start: de af be ef de af ... (256 of them, copied in
 * blocks). */
static unsigned char pattern[256];

static void pattern_init(void) {
  for (size_t i = 0; i < sizeof pattern; i++)
    pattern[i] = (unsigned char)(POISON >> (8 * (3 - i % 4)));
}

/* Fills an item with the pattern. A function for modules: the page is ours, but a module that
 * unmapped it (--host-symbols) faults here, in its own call. */
CLKM_MODAPI static void poison(char *item, size_t size) {
  for (size_t at = 0; at < size; at += sizeof pattern)
    memcpy(item + at, pattern, size - at < sizeof pattern ? size - at : sizeof pattern);
}

/* The first offset where an item no longer holds the pattern, or -1. Reads a page of ours that
 * stays mapped while the pool has it. */
CLKM_MODAPI static long poison_changed(const char *item, size_t size) {
  for (size_t at = 0; at < size; at += sizeof pattern) {
    size_t n = size - at < sizeof pattern ? size - at : sizeof pattern;
    if (memcmp(item + at, pattern, n) == 0) continue;
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)item[at + i] != pattern[i]) return (long)(at + i);
  }
  return -1;
}

/* ---- Pages ---- */

/* A new page for kp: a mapping aligned to its size, every item poisoned; NULL if the system
 * refuses. */
static struct ppage *page_new(struct kpool *kp) {
  size_t words = (kp->itemsperpage + 63) / 64;
  struct ppage *g = calloc(1, sizeof *g + words * sizeof(uint64_t));
  if (g == NULL) return NULL;
  size_t span = kp->pgsize > PAGE ? 2 * (size_t)kp->pgsize : PAGE;
  char *map = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    free(g);
    return NULL;
  }
  char *base = (char *)(((uintptr_t)map + kp->pgsize - 1) & ~(uintptr_t)(kp->pgsize - 1));
  if (base > map) munmap(map, (size_t)(base - map));
  if (base + kp->pgsize < map + span) munmap(base + kp->pgsize, (size_t)(map + span - base - kp->pgsize));
  g->base = base;
  g->pool = kp;
  for (unsigned i = 0; i < kp->itemsperpage; i++) poison(item_at(kp, g, i), kp->size);
  unsigned b = page_bucket(base);
  g->hnext = pages[b];
  pages[b] = g;
  list_push(kp, g, EMPTY);
  kp->npages++;
  kp->nidle++;
  kp->nitems += kp->itemsperpage;
  kp->npagealloc++;
  if (kp->npages > kp->hiwat) kp->hiwat = kp->npages;
  return g;
}

/* Unmaps a page and forgets it (its items are gone: callers count those out themselves). */
static void page_free(struct kpool *kp, struct ppage *g) {
  struct ppage **link = &pages[page_bucket(g->base)];
  while (*link != g) link = &(*link)->hnext;
  *link = g->hnext;
  list_unlink(kp, g);
  if (g->nout == 0) kp->nidle--;
  kp->nitems -= kp->itemsperpage - g->nout;
  kp->npages--;
  kp->npagefree++;
  munmap(g->base, kp->pgsize);
  free(g);
}

/* Adds pages until the low water mark is met (never waits; stops when the system refuses). */
static void catch_up(struct kpool *kp) {
  while (kp->nitems < kp->minitems)
    if (page_new(kp) == NULL) break;
}

/* Takes a free item (partial pages first, then empty ones), or NULL when there is none. */
static char *item_take(struct kpool *kp) {
  struct ppage *g = kp->lists[PARTIAL] ? kp->lists[PARTIAL] : kp->lists[EMPTY];
  if (g == NULL) return NULL;
  unsigned words = (kp->itemsperpage + 63) / 64;
  for (unsigned w = 0; w < words; w++) {
    uint64_t free_bits = ~g->out[w];
    if (w == words - 1 && kp->itemsperpage % 64) free_bits &= (1ull << (kp->itemsperpage % 64)) - 1;
    if (free_bits == 0) continue;
    unsigned i = w * 64 + (unsigned)__builtin_ctzll(free_bits);
    g->out[w] |= 1ull << (i % 64);
    if (g->nout++ == 0) kp->nidle--;
    kp->nout++;
    kp->nitems--;
    kp->nget++;
    list_move(kp, g, g->nout == kp->itemsperpage ? FULL : PARTIAL);
    return item_at(kp, g, i);
  }
  return NULL; /* not reached: a page on these lists has a free item */
}

/* ---- What the module reads ---- */

static void mirror(const struct kpool *kp, void *pp) {
  struct clkm_pool m;
  memset(&m, 0, sizeof m);
  m.pr_size = kp->size;
  m.pr_align = kp->align;
  m.pr_itemoffset = kp->ioff;
  m.pr_minitems = kp->minitems;
  m.pr_minpages = kp->minpages;
  m.pr_maxpages = kp->maxpages;
  m.pr_npages = kp->npages;
  m.pr_itemsperpage = kp->itemsperpage;
  m.pr_slack = kp->slack;
  m.pr_nitems = kp->nitems;
  m.pr_nout = kp->nout;
  m.pr_hardlimit = kp->hardlimit;
  m.pr_serial = kp->serial;
  m.pr_pgsize = kp->pgsize;
  m.pr_alloc = kp->alloc_given;
  m.pr_wchan = kp->wchan_given;
  m.pr_flags = kp->waiting > 0 ? PR_WANTED : 0;
  m.pr_roflags = kp->roflags;
  m.pr_ipl = -1;
  m.pr_hardlimit_warning = kp->warning_given;
  m.pr_hardlimit_ratecap.tv_sec = kp->ratecap;
  m.pr_hardlimit_warning_last.tv_sec = kp->last_warning.tv_sec;
  m.pr_hardlimit_warning_last.tv_usec = kp->last_warning.tv_nsec / 1000;
  m.pr_nget = kp->nget;
  m.pr_nfail = kp->nfail;
  m.pr_nput = kp->nput;
  m.pr_npagealloc = kp->npagealloc;
  m.pr_npagefree = kp->npagefree;
  m.pr_hiwat = kp->hiwat;
  m.pr_nidle = kp->nidle;
  /* A struct the module made unwritable afterwards keeps what it had. */
  (void)clkm_copy_quick(&m, pp, sizeof m);
}

/* ---- Locking and refusals ---- */

static void locked_leave(int took) {
  if (took) clkm_kernel_unlock();
}

/* Ends the module's call with a panic (the lock taken here let go first). */
_Noreturn static void refuse(int took, void *pc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn static void refuse(int took, void *pc, const char *fmt, ...) {
  char message[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  locked_leave(took);
  clkm_guard_panic(message, pc);
}

/* Frees every page of kp, the items out on them too. */
static void pool_free_record(struct kpool *kp) {
  for (int l = 0; l < 3; l++)
    while (kp->lists[l] != NULL) {
      struct ppage *g = kp->lists[l];
      kp->nout -= g->nout;
      page_free(kp, g);
    }
}

/* Takes kp out of the table, frees its pages and wakes its sleepers; the record itself is freed
 * now, or by the last sleeper. With the lock held. */
static void pool_retire(struct kpool *kp) {
  pool_unhash(kp);
  pool_free_record(kp);
  kp->destroyed = 1;
  if (kp->waiting > 0) clkm_wakeup((void *)kp->key);
  else free(kp);
}

/* ---- pool(9) ---- */

static unsigned round_up(unsigned n, unsigned to) { return (n + to - 1) / to * to; }

CLKM_MODAPI void clkm_pool_init(void *pp, size_t size, unsigned align, unsigned ioff, int flags,
                                const char *wchan, void *palloc) {
  void *pc = __builtin_return_address(0);
  char name[NAME_BYTES];
  size_t done = 0;
  if (wchan == NULL) snprintf(name, sizeof name, "?");
  else if (clkm_copyinstr(wchan, name, sizeof name, &done) == CLKM_EFAULT)
    clkm_guard_panic("pool_init: the wchan string is not readable", pc);
  name[sizeof name - 1] = 0;
  if (align == 0) align = 8;
  if ((align & (align - 1)) != 0 || align > PAGE) {
    char message[128];
    snprintf(message, sizeof message, "pool_init: %s: alignment %u is not a power of two up to %u",
             name, align, PAGE);
    clkm_guard_panic(message, pc);
  }
  if (size > MAX_ITEM) {
    char message[128];
    snprintf(message, sizeof message, "pool_init: pool item size (%lu) too large", (unsigned long)size);
    clkm_guard_panic(message, pc);
  }
  ioff %= align;
  unsigned item = round_up(size == 0 ? 1 : (unsigned)size, align);
  unsigned off0 = (align - ioff) % align;
  unsigned pgsize = PAGE;
  while (pgsize < MAX_PAGE && (pgsize - off0) / item < 4) pgsize <<= 1;

  int took = clkm_kernel_lock_take();
  clkm_critical_enter();
  struct kpool *existing = pool_find(pp);
  struct kpool *kp = existing == NULL ? calloc(1, sizeof *kp) : NULL;
  if (kp != NULL) {
    kp->key = (uintptr_t)pp;
    kp->serial = ++serials;
    kp->owner = clkm_current_module;
    memcpy(kp->wchan, name, sizeof name);
    kp->wchan_given = wchan;
    kp->alloc_given = palloc;
    kp->roflags = flags;
    kp->size = item;
    kp->align = align;
    kp->ioff = ioff;
    kp->off0 = off0;
    kp->pgsize = pgsize;
    kp->itemsperpage = (pgsize - off0) / item;
    kp->slack = pgsize - off0 - kp->itemsperpage * item;
    kp->maxpages = 8;
    kp->hardlimit = 0xffffffffu;
    unsigned b = pool_bucket(kp->key);
    kp->hnext = pools[b];
    pools[b] = kp;
  }
  clkm_critical_leave();
  if (existing != NULL)
    refuse(took, pc, "pool_init: 0x%lx is pool '%s' already (pool_destroy it first)",
           (unsigned long)(uintptr_t)pp, existing->wchan);
  if (kp == NULL) refuse(took, pc, "pool_init: %s: out of memory", name);
  struct clkm_pool probe;
  memset(&probe, 0, sizeof probe);
  if (clkm_copyout(&probe, pp, sizeof probe) != 0) {
    clkm_critical_enter();
    pool_unhash(kp);
    free(kp);
    clkm_critical_leave();
    refuse(took, pc, "pool_init: %s: the struct pool at 0x%lx is not writable", name,
           (unsigned long)(uintptr_t)pp);
  }
  mirror(kp, pp);
  locked_leave(took);
}

/* The pool at pp, or a panic naming the call. With the lock held (took: whether we took it). */
static struct kpool *pool_or_refuse(const void *pp, const char *call, int took, void *pc) {
  clkm_critical_enter();
  struct kpool *kp = pool_find(pp);
  clkm_critical_leave();
  if (kp == NULL)
    refuse(took, pc, "%s: 0x%lx is not a pool (pool_init first)", call, (unsigned long)(uintptr_t)pp);
  return kp;
}

CLKM_MODAPI void clkm_pool_destroy(void *pp) {
  void *pc = __builtin_return_address(0);
  int took = clkm_kernel_lock_take();
  struct kpool *kp = pool_or_refuse(pp, "pool_destroy", took, pc);
  if (kp->nout != 0)
    refuse(took, pc, "pool_destroy: pool '%s' busy: still out: %u", kp->wchan, kp->nout);
  clkm_critical_enter();
  pool_retire(kp);
  clkm_critical_leave();
  locked_leave(took);
}

/* Whether the hard limit's warning may be logged now (OpenBSD's ratecheck: at most once every
 * ratecap seconds). */
static int ratecheck(struct kpool *kp) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int never = kp->last_warning.tv_sec == 0 && kp->last_warning.tv_nsec == 0;
  if (!never && now.tv_sec - kp->last_warning.tv_sec < kp->ratecap) return 0;
  if (!never && now.tv_sec - kp->last_warning.tv_sec == kp->ratecap &&
      now.tv_nsec < kp->last_warning.tv_nsec)
    return 0;
  kp->last_warning = now;
  return 1;
}

/* pool_get; check: whether an item written after pool_put is a panic (the kernel's own gets
 * cannot panic: it takes such an item as it is). */
static void *get(void *pp, int flags, void *pc, int check) {
  int took = clkm_kernel_lock_take();
  struct kpool *kp = pool_or_refuse(pp, "pool_get", took, pc);
  char *item = NULL;
  char warning[WARNING_BYTES + 2] = "";
  for (;;) {
    clkm_critical_enter();
    if (kp->destroyed) {
      char name[NAME_BYTES];
      memcpy(name, kp->wchan, sizeof name);
      if (kp->waiting == 0) free(kp);
      clkm_critical_leave();
      refuse(took, pc, "pool_get: pool '%s' was destroyed while pool_get waited", name);
    }
    if (kp->nout >= kp->hardlimit) {
      if ((flags & PR_WAITOK) && !(flags & PR_LIMITFAIL)) {
        /* Asleep until a pool_put (or a higher limit): the lock is let go meanwhile. */
        kp->waiting++;
        clkm_critical_leave();
        mirror(kp, pp);
        clkm_tsleep(pp, PSWP, kp->wchan, 0);
        clkm_critical_enter();
        kp->waiting--;
        clkm_critical_leave();
        continue;
      }
      if (kp->has_warning && ratecheck(kp)) snprintf(warning, sizeof warning, "%s\n", kp->warning);
      kp->nfail++;
      clkm_critical_leave();
      break;
    }
    item = item_take(kp);
    if (item == NULL && page_new(kp) != NULL) item = item_take(kp);
    if (item == NULL) {
      if (!(flags & PR_WAITOK)) kp->nfail++;
      clkm_critical_leave();
      if (!(flags & PR_WAITOK)) break;
      /* No memory: wait for an item to come back, or try again in a tick. */
      clkm_critical_enter();
      kp->waiting++;
      clkm_critical_leave();
      clkm_tsleep(pp, PSWP, kp->wchan, 1);
      clkm_critical_enter();
      kp->waiting--;
      clkm_critical_leave();
      continue;
    }
    catch_up(kp);
    clkm_critical_leave();
    break;
  }
  mirror(kp, pp);
  size_t size = kp->size;
  char name[NAME_BYTES];
  memcpy(name, kp->wchan, sizeof name);
  locked_leave(took);
  if (warning[0] != 0) clkm_log_text(warning);
  if (item == NULL) return NULL;
  long changed = check ? poison_changed(item, size) : -1;
  if (changed >= 0) {
    char message[200];
    snprintf(message, sizeof message,
             "pool_get: '%s': item 0x%lx was written after pool_put (offset 0x%lx = 0x%02x)", name,
             (unsigned long)(uintptr_t)item, (unsigned long)changed, (unsigned char)item[changed]);
    clkm_guard_panic(message, pc);
  }
  if (flags & PR_ZERO) memset(item, 0, size);
  return item;
}

CLKM_MODAPI void *clkm_pool_get(void *pp, int flags) {
  return get(pp, flags, __builtin_return_address(0), 1);
}

void *clkm_pool_get_kernel(void *pp, int flags) { return get(pp, flags, NULL, 0); }

CLKM_MODAPI void clkm_pool_put(void *pp, void *v) {
  void *pc = __builtin_return_address(0);
  int took = clkm_kernel_lock_take();
  if (v == NULL) refuse(took, pc, "pool_put of NULL");
  struct kpool *kp = pool_or_refuse(pp, "pool_put", took, pc);
  clkm_critical_enter();
  struct ppage *g = page_containing(v);
  long index = -1;
  const char *other = NULL;
  int twice = 0;
  if (g != NULL && g->pool == kp) {
    uintptr_t at = (uintptr_t)v - (uintptr_t)g->base;
    if (at >= kp->off0 && (at - kp->off0) % kp->size == 0 && (at - kp->off0) / kp->size < kp->itemsperpage) {
      index = (long)((at - kp->off0) / kp->size);
      twice = !(g->out[index / 64] & (1ull << (index % 64)));
    }
  } else if (g != NULL) {
    other = g->pool->wchan;
  }
  char other_name[NAME_BYTES] = "";
  if (other != NULL) memcpy(other_name, other, sizeof other_name);
  clkm_critical_leave();
  unsigned long address = (unsigned long)(uintptr_t)v;
  if (other != NULL)
    refuse(took, pc, "pool_put: 0x%lx is an item of pool '%s', not of '%s'", address, other_name, kp->wchan);
  if (g == NULL) refuse(took, pc, "pool_put: 0x%lx is not an item of pool '%s'", address, kp->wchan);
  if (index < 0)
    refuse(took, pc, "pool_put: 0x%lx is inside a page of pool '%s' but not the start of an item",
           address, kp->wchan);
  if (twice) refuse(took, pc, "pool_put: 0x%lx of pool '%s' put twice", address, kp->wchan);
  poison(v, kp->size);
  clkm_critical_enter();
  g->out[index / 64] &= ~(1ull << (index % 64));
  kp->nout--;
  kp->nitems++;
  kp->nput++;
  if (--g->nout == 0) {
    kp->nidle++;
    /* OpenBSD keeps the page for a pool_get that waits; else up to the high water mark. */
    if (kp->waiting == 0 && kp->nidle > kp->maxpages && kp->nitems - kp->itemsperpage >= kp->minitems)
      page_free(kp, g);
    else list_move(kp, g, EMPTY);
  } else {
    list_move(kp, g, PARTIAL);
  }
  int wake = kp->waiting > 0;
  clkm_critical_leave();
  if (wake) clkm_wakeup(pp);
  mirror(kp, pp);
  locked_leave(took);
}

CLKM_MODAPI void clkm_pool_setlowat(void *pp, int n) {
  void *pc = __builtin_return_address(0);
  int took = clkm_kernel_lock_take();
  struct kpool *kp = pool_or_refuse(pp, "pool_setlowat", took, pc);
  clkm_critical_enter();
  kp->minitems = n < 0 ? 0 : (unsigned)n;
  kp->minpages = kp->minitems == 0 ? 0 : round_up(kp->minitems, kp->itemsperpage) / kp->itemsperpage;
  catch_up(kp);
  clkm_critical_leave();
  mirror(kp, pp);
  locked_leave(took);
}

CLKM_MODAPI void clkm_pool_sethiwat(void *pp, int n) {
  void *pc = __builtin_return_address(0);
  int took = clkm_kernel_lock_take();
  struct kpool *kp = pool_or_refuse(pp, "pool_sethiwat", took, pc);
  unsigned items = n < 0 ? 0 : (unsigned)n;
  kp->maxpages = items == 0 ? 0 : round_up(items, kp->itemsperpage) / kp->itemsperpage;
  mirror(kp, pp);
  locked_leave(took);
}

CLKM_MODAPI int clkm_pool_sethardlimit(void *pp, unsigned n, const char *warnmess, int ratecap) {
  void *pc = __builtin_return_address(0);
  int took = clkm_kernel_lock_take();
  struct kpool *kp = pool_or_refuse(pp, "pool_sethardlimit", took, pc);
  if (n < kp->nout) {
    locked_leave(took);
    return CLKM_EINVAL;
  }
  char warning[WARNING_BYTES];
  size_t done = 0;
  if (warnmess != NULL && clkm_copyinstr(warnmess, warning, sizeof warning, &done) == CLKM_EFAULT)
    refuse(took, pc, "pool_sethardlimit: %s: the warning message is not readable", kp->wchan);
  warning[sizeof warning - 1] = 0;
  kp->hardlimit = n;
  kp->has_warning = warnmess != NULL;
  if (kp->has_warning) memcpy(kp->warning, warning, sizeof warning);
  kp->warning_given = warnmess;
  kp->ratecap = ratecap;
  kp->last_warning = (struct timespec){0, 0};
  kp->maxpages = n == 0 || n == 0xffffffffu ? n : round_up(n, kp->itemsperpage) / kp->itemsperpage;
  /* A higher limit may let a sleeping pool_get go on. */
  if (kp->waiting > 0) clkm_wakeup(pp);
  mirror(kp, pp);
  locked_leave(took);
  return 0;
}

/* ---- For the kernel ---- */

int clkm_pool_item_live(const void *pp, const void *v) {
  struct kpool *kp = pool_find(pp);
  struct ppage *g = kp != NULL ? page_containing(v) : NULL;
  if (g == NULL || g->pool != kp) return 0;
  uintptr_t at = (uintptr_t)v - (uintptr_t)g->base;
  if (at < kp->off0 || (at - kp->off0) % kp->size != 0) return 0;
  size_t index = (at - kp->off0) / kp->size;
  return index < kp->itemsperpage && (g->out[index / 64] & (1ull << (index % 64))) != 0;
}

size_t clkm_module_pools_release(int id, uint64_t start, uint64_t end, clkm_pool_report_t *reports,
                                 size_t room) {
  size_t n = 0;
  int took = clkm_kernel_lock_take();
  clkm_critical_enter();
  for (unsigned b = 0; b < POOL_BUCKETS; b++) {
    struct kpool *kp = pools[b];
    while (kp != NULL) {
      struct kpool *next = kp->hnext;
      if ((id >= 0 && kp->owner == id) || (kp->key >= start && kp->key < end)) {
        if (n < room) {
          clkm_pool_report_t *r = &reports[n];
          memset(r, 0, sizeof *r);
          memcpy(r->name, kp->wchan, sizeof r->name);
          r->items_out = kp->nout;
          r->pages = kp->npages;
          r->address = kp->key;
        }
        n++;
        pool_retire(kp);
      }
      kp = next;
    }
  }
  clkm_critical_leave();
  locked_leave(took);
  return n;
}

void clkm_pool_bootstrap(void) {
  pattern_init();
  clkm_kd->pool_allocator_nointr.pa_pagesz = PAGE;
  clkm_kd->pool_allocator_nointr.pa_pagemask = ~(int)(PAGE - 1);
  clkm_kd->pool_allocator_nointr.pa_pageshift = 12;
}

size_t clkm_pool_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("pool_init", clkm_pool_init),
      CLKM_FUNC("pool_destroy", clkm_pool_destroy),
      CLKM_FUNC("pool_get", clkm_pool_get),
      CLKM_FUNC("pool_put", clkm_pool_put),
      CLKM_FUNC("pool_setlowat", clkm_pool_setlowat),
      CLKM_FUNC("pool_sethiwat", clkm_pool_sethiwat),
      CLKM_FUNC("pool_sethardlimit", clkm_pool_sethardlimit),
      CLKM_DATA("pool_allocator_nointr", &clkm_kd->pool_allocator_nointr),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
