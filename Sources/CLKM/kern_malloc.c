/* malloc(9) and free(9): the kernel's own allocator, so that what a module does to the memory it
 * allocates stays in memory the kernel can check and take back (glibc's heap keeps its
 * bookkeeping next to the data, and aborts lkmd when a module overwrites it).
 *
 * Design. Nothing the allocator trusts lives next to the data: every fact about an allocation
 * (owner module, requested size, caller, state, age) is in metadata pages mapped elsewhere.
 *
 *  - Small allocations (up to CLKM_MALLOC_SMALL_MAX, 32 KiB) come from slabs. A slab is one cell
 *    (CELL_BYTES) of an arena, a 64 MiB reservation (PROT_NONE) made when the arenas before it
 *    are full, and it holds slots of one size class for one owner module only, so an overflow
 *    reaches at most the module's own allocations. A cell is [metadata][guard page][slots]
 *    [guard page]: the metadata (struct slab, a free bitmap, one struct slot per slot) is
 *    behind an inaccessible page on either side, out of reach of an overflow or underflow of
 *    any slot. A slot is [16-byte redzone][class bytes][16-byte redzone]; the redzones and the
 *    slack between the requested size and the class are filled with REDZONE_BYTE and checked at
 *    free() and when the module's memory is released.
 *  - Large allocations have a mapping each: [guard page][front slack][data][tail slack < 16]
 *    [guard page], the data ending next to the trailing guard page so an overrun faults at once;
 *    their records are in a hash table of our own.
 *  - free() finds the allocation from the pointer through the metadata alone (cell index and
 *    slot arithmetic, or the hash table) and never reads bytes before the pointer to decide: a
 *    pointer that is not the start of a live allocation is refused, one freed before is named as
 *    a double free (slots remember it until reused, which the next-fit search delays; large
 *    allocations through a ring of recently freed addresses).
 *  - A corrupt redzone or a bad pointer during a guarded call ends the call as a panic does
 *    (clkm_guard_panic), naming the size and the allocating caller's pc.
 *  - Guard pages are guard regions (madvise(MADV_GUARD_INSTALL), Linux 6.13), markers that fault
 *    as PROT_NONE does without splitting the mapping, so that an arena is one mapping for fork(2)
 *    to copy; PROT_NONE pages where the system has no guard regions.
 *  - Memory goes back to the system: an empty slab is unmapped (madvise + guard) unless its
 *    owner keeps fewer than IDLE_SLABS empty ones in the class, a large allocation is unmapped at
 *    free, and
 *    clkm_module_allocations_release frees everything a module still owns.
 *  - One lock guards all of it. Nothing under the lock touches memory a module could have
 *    unmapped, and nothing panics while holding it; the work under it is kernel code, outside
 *    the section of functions modules call, so that no fault or watchdog unwinds through it.
 *
 * Limits: one allocation is at most CLKM_MALLOC_MAX bytes (65535 pages, OpenBSD's limit); small
 * allocations share MAX_ARENAS arenas (1 GiB of address space, reserved 64 MiB at a time so
 * that a process under RLIMIT_AS, the sandbox's child, is not charged for what it does not
 * use). */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* sys/malloc.h */
#define M_WAITOK 0x0001
#define M_NOWAIT 0x0002
#define M_CANFAIL 0x0004
#define M_ZERO 0x0008

#define PAGE 4096u
#define REDZONE 16u
#define REDZONE_BYTE 0xbd
#define CELL_BYTES (256u * 1024u)
#define ARENA_CELLS 256u /* 64 MiB */
#define MAX_ARENAS 16u
#define NCELLS (ARENA_CELLS * MAX_ARENAS)
#define MAX_OWNERS 4096 /* module ids -1 ... 4094; others are accounted to the kernel (-1) */
#define RECENT_LARGE 256

enum { SLOT_UNUSED = 0, SLOT_LIVE = 1, SLOT_FREED = 2 };

/* What the kernel knows of one slot: 16 bytes, out of line. */
struct slot {
  uint64_t caller;
  uint32_t seq;
  uint16_t size; /* requested bytes (at most CLKM_MALLOC_SMALL_MAX) */
  uint8_t state;
  uint8_t pad;
};

/* At the start of its cell. */
struct slab {
  struct slab *next, *prev; /* in its owner's avail or full list for the class */
  char *base;               /* the first slot's front redzone */
  int owner;                /* owner index */
  unsigned klass, csize, stride, nslots, nlive, cursor, cell;
  int full;
  int idle; /* empty, and counted in its owner's idle[klass] */
  uint64_t reciprocal; /* ceil(2^40 / stride): offset / stride without a division */
  uint64_t *freemap;        /* bit set: slot available */
  struct slot *slots;
};

/* Size classes: 16-byte steps to 128, then four per power of two to 32 KiB. */
static const unsigned class_size[] = {
    16,   32,   48,   64,   80,   96,    112,   128,   160,   192,   224,   256,   320,   384,
    448,  512,  640,  768,  896,  1024,  1280,  1536,  1792,  2048,  2560,  3072,  3584,  4096,
    5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768};
#define NCLASSES (sizeof class_size / sizeof class_size[0])
_Static_assert(CLKM_MALLOC_SMALL_MAX == 32768, "the largest class is the small limit");
/* class_of[(size + 15) / 16]: the smallest class that holds size. */
static uint8_t class_of[CLKM_MALLOC_SMALL_MAX / 16 + 1];
/* Per class: the slots in a cell and the bytes of metadata before the guard page. */
static unsigned class_slots[NCLASSES], class_meta[NCLASSES];

struct large {
  struct large *next, *prev; /* owner's list */
  struct large *hnext;       /* hash chain */
  char *map;
  size_t maplen;
  char *user;
  size_t size;
  uint64_t caller;
  uint32_t seq;
  int owner;
};

/* Empty slabs an owner keeps per class before giving them back (so that a slab emptied and
 * refilled over and over is not unmapped and faulted in each time). */
#define IDLE_SLABS 2

struct owner {
  struct slab *avail[NCLASSES], *full[NCLASSES];
  uint8_t idle[NCLASSES];
  struct large *large;
  uint64_t count, bytes;
};

/* The allocator's lock: test-and-set, yielding the processor while another thread holds it
 * (critical sections are a few dozen instructions, or a system call or two). Holding it is a
 * critical section (clkm_critical_enter): the watchdog never unwinds a call through it. */
static volatile int lock_word;

static void lock(void) {
  clkm_critical_enter();
  while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE)) {
    for (int spins = 0; __atomic_load_n(&lock_word, __ATOMIC_RELAXED); spins++) {
      if (spins < 64) __builtin_ia32_pause();
      else sched_yield();
    }
  }
}

static void unlock(void) {
  __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
  clkm_critical_leave();
}
static int ready;
static struct arena {
  char *base;                       /* ARENA_CELLS cells */
  struct slab *slab[ARENA_CELLS];   /* the slab in each cell in use */
} arenas[MAX_ARENAS];
static unsigned narenas;
static unsigned fresh_cells;            /* cells never used: [fresh_cells, narenas * ARENA_CELLS) */
static uint32_t released[NCELLS];       /* FIFO of released cells, reused oldest first */
static unsigned released_head, released_count;
static struct owner owners[MAX_OWNERS];
static uint32_t sequence;
#define LARGE_BUCKETS 4096
static struct large *large_hash[LARGE_BUCKETS];
static struct large *large_pool;        /* free records */
static uintptr_t recent_large[RECENT_LARGE];
static unsigned recent_next;

static int owner_index(int id) { return id >= -1 && id < MAX_OWNERS - 1 ? id + 1 : 0; }

/* ---- Setup ---- */

static size_t round_page(size_t n) { return (n + PAGE - 1) & ~(size_t)(PAGE - 1); }

/* The metadata bytes of a slab of n slots, rounded to pages. */
static size_t meta_bytes(unsigned n) {
  return round_page(sizeof(struct slab) + (n + 63) / 64 * 8 + (size_t)n * sizeof(struct slot));
}

static void setup(void) {
  if (ready) return;
  unsigned k = 0;
  for (unsigned i = 0; i <= CLKM_MALLOC_SMALL_MAX / 16; i++) {
    while (class_size[k] < i * 16) k++;
    class_of[i] = (uint8_t)k;
  }
  for (k = 0; k < NCLASSES; k++) {
    unsigned stride = class_size[k] + 2 * REDZONE;
    unsigned n = (CELL_BYTES - 2 * PAGE) / stride;
    while (meta_bytes(n) + 2 * PAGE + (size_t)n * stride > CELL_BYTES) n--;
    class_slots[k] = n;
    class_meta[k] = (unsigned)meta_bytes(n);
  }
  ready = 1;
}

/* The slab whose cell holds p, *in set if p is in an arena at all. */
static struct slab *slab_at(const char *p, int *in) {
  for (unsigned a = 0; a < narenas; a++) {
    if (p >= arenas[a].base && p < arenas[a].base + (size_t)ARENA_CELLS * CELL_BYTES) {
      *in = 1;
      return arenas[a].slab[(size_t)(p - arenas[a].base) / CELL_BYTES];
    }
  }
  *in = 0;
  return NULL;
}

/* ---- Redzones ---- */

static void fill(char *p, size_t n) { memset(p, REDZONE_BYTE, n); }

static int intact(const char *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  const uint64_t word = 0x0101010101010101ull * REDZONE_BYTE;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, b + i, 8);
    if (w != word) return 0;
  }
  for (; i < n; i++)
    if (b[i] != REDZONE_BYTE) return 0;
  return 1;
}

/* ---- Lists ---- */

static void slab_push(struct slab **head, struct slab *s) {
  s->prev = NULL;
  s->next = *head;
  if (*head) (*head)->prev = s;
  *head = s;
}

static void slab_unlink(struct slab **head, struct slab *s) {
  if (s->prev) s->prev->next = s->next;
  else *head = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = NULL;
}

/* ---- Cells and slabs ---- */

static char *cell_address(unsigned cell) {
  return arenas[cell / ARENA_CELLS].base + (size_t)(cell % ARENA_CELLS) * CELL_BYTES;
}

static void cell_give_back(unsigned cell) {
  released[(released_head + released_count) % NCELLS] = cell;
  released_count++;
}

/* A new slab of class k for owner o, or NULL when the arenas are full or the system refuses. */
static struct slab *slab_new(int o, unsigned k) {
  /* A released cell once 64 wait (the oldest: a stale pointer into it faults the longest),
   * else a fresh one, from a new arena if need be. */
  int fresh = released_count < 64 && fresh_cells < NCELLS;
  if (fresh && fresh_cells == narenas * ARENA_CELLS) {
    char *arena = mmap(NULL, (size_t)ARENA_CELLS * CELL_BYTES, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (arena == MAP_FAILED) fresh = 0;
    else arenas[narenas++].base = arena;
  }
  unsigned cell;
  if (fresh) {
    cell = fresh_cells++;
  } else if (released_count > 0) {
    cell = released[released_head];
    released_head = (released_head + 1) % NCELLS;
    released_count--;
  } else {
    return NULL;
  }
  char *c = cell_address(cell);
  size_t meta = class_meta[k];
  char *base = c + meta + PAGE;
  size_t data = CELL_BYTES - meta - 2 * PAGE;
  /* A fresh cell is PROT_NONE (the arena's reservation): made readable and writable whole (one
   * mapping with the cells before it), then its two guard pages guarded. A released cell is
   * guarded whole (slab_release): its metadata and slots are unguarded. */
  int ok = fresh ? mprotect(c, CELL_BYTES, PROT_READ | PROT_WRITE) == 0 &&
                       clkm_guard_pages(c + meta, PAGE) == 0 &&
                       clkm_guard_pages(c + CELL_BYTES - PAGE, PAGE) == 0
                 : clkm_unguard_pages(c, meta) == 0 && clkm_unguard_pages(base, data) == 0;
  if (!ok) {
    madvise(c, CELL_BYTES, MADV_DONTNEED);
    if (clkm_guard_pages(c, CELL_BYTES) != 0) mprotect(c, CELL_BYTES, PROT_NONE);
    cell_give_back(cell);
    return NULL;
  }
  struct slab *s = (struct slab *)c;
  memset(s, 0, sizeof *s);
  s->base = base;
  s->owner = o;
  s->klass = k;
  s->csize = class_size[k];
  s->stride = class_size[k] + 2 * REDZONE;
  s->nslots = class_slots[k];
  s->reciprocal = ((1ull << 40) + s->stride - 1) / s->stride;
  s->cell = cell;
  s->freemap = (uint64_t *)(c + sizeof *s);
  unsigned words = (s->nslots + 63) / 64;
  s->slots = (struct slot *)(s->freemap + words);
  for (unsigned w = 0; w < words; w++) s->freemap[w] = ~0ull;
  if (s->nslots % 64) s->freemap[words - 1] = (1ull << (s->nslots % 64)) - 1;
  arenas[cell / ARENA_CELLS].slab[cell % ARENA_CELLS] = s;
  return s;
}

/* Gives a slab's cell (metadata and slots) back to the system; it faults until reused. */
static void slab_release(struct slab *s) {
  unsigned cell = s->cell;
  char *c = (char *)s;
  arenas[cell / ARENA_CELLS].slab[cell % ARENA_CELLS] = NULL;
  madvise(c, CELL_BYTES, MADV_DONTNEED);
  if (clkm_guard_pages(c, CELL_BYTES) != 0) mprotect(c, CELL_BYTES, PROT_NONE);
  cell_give_back(cell);
}

/* The next available slot at or after the cursor (next fit, so freed slots wait). */
static unsigned slab_take(struct slab *s) {
  unsigned words = (s->nslots + 63) / 64;
  unsigned w = s->cursor / 64;
  uint64_t bits = s->freemap[w] & (~0ull << (s->cursor % 64));
  for (unsigned n = 0; n <= words; n++) {
    if (bits) {
      unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
      s->freemap[w] &= ~(1ull << (i % 64));
      s->cursor = i + 1 == s->nslots ? 0 : i + 1;
      return i;
    }
    w = (w + 1) % words;
    bits = s->freemap[w];
  }
  return s->nslots; /* not reached: callers take only from slabs with room */
}

static char *slot_data(const struct slab *s, unsigned i) {
  return s->base + (size_t)i * s->stride + REDZONE;
}

/* ---- Large allocations ---- */

static unsigned large_bucket(const void *p) {
  return (unsigned)(((uintptr_t)p >> 12) % LARGE_BUCKETS);
}

static struct large *large_record(void) {
  if (large_pool == NULL) {
    struct large *chunk = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (chunk == MAP_FAILED) return NULL;
    size_t n = 64 * 1024 / sizeof *chunk;
    for (size_t i = 0; i < n; i++) {
      chunk[i].next = large_pool;
      large_pool = &chunk[i];
    }
  }
  struct large *r = large_pool;
  large_pool = r->next;
  memset(r, 0, sizeof *r);
  return r;
}

static struct large *large_find(const void *p) {
  for (struct large *r = large_hash[large_bucket(p)]; r != NULL; r = r->hnext)
    if (r->user == p) return r;
  return NULL;
}

static void large_unlink(struct large *r) {
  struct large **link = &large_hash[large_bucket(r->user)];
  while (*link != r) link = &(*link)->hnext;
  *link = r->hnext;
  struct owner *o = &owners[r->owner];
  if (r->prev) r->prev->next = r->next;
  else o->large = r->next;
  if (r->next) r->next->prev = r->prev;
  o->count--;
  o->bytes -= r->size;
}

static void recent_forget(const void *p) {
  for (unsigned i = 0; i < RECENT_LARGE; i++)
    if (recent_large[i] == (uintptr_t)p) recent_large[i] = 0;
}

static int recent_contains(const void *p) {
  for (unsigned i = 0; i < RECENT_LARGE; i++)
    if (recent_large[i] == (uintptr_t)p) return 1;
  return 0;
}

/* The front slack runs from the first data page to the data; the tail slack to the 16-byte
 * boundary. */
static int large_intact(const struct large *r) {
  char *first = r->map + PAGE;
  size_t rounded = (r->size + 15) & ~(size_t)15;
  return intact(first, (size_t)(r->user - first)) && intact(r->user + r->size, rounded - r->size);
}

/* A mapping of its own, between guard pages; NULL if the system refuses. */
static void *large_alloc(int o, size_t size, uint64_t caller) {
  size_t rounded = (size + 15) & ~(size_t)15;
  if (rounded == 0) rounded = 16;
  size_t pages = (rounded + PAGE - 1) & ~(size_t)(PAGE - 1);
  size_t maplen = pages + 2 * PAGE;
  char *map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return NULL;
  if (clkm_guard_pages(map, PAGE) != 0 || clkm_guard_pages(map + PAGE + pages, PAGE) != 0) {
    munmap(map, maplen);
    return NULL;
  }
  char *user = map + PAGE + (pages - rounded);
  fill(map + PAGE, pages - rounded);
  fill(user + size, rounded - size);
  lock();
  struct large *r = large_record();
  if (r == NULL) {
    unlock();
    munmap(map, maplen);
    return NULL;
  }
  r->map = map;
  r->maplen = maplen;
  r->user = user;
  r->size = size;
  r->caller = caller;
  r->seq = sequence++;
  r->owner = o;
  unsigned b = large_bucket(user);
  r->hnext = large_hash[b];
  large_hash[b] = r;
  struct owner *ow = &owners[o];
  r->next = ow->large;
  if (ow->large) ow->large->prev = r;
  ow->large = r;
  ow->count++;
  ow->bytes += size;
  recent_forget(user);
  unlock();
  return user;
}

/* ---- malloc(9), free(9) ---- */

/* End the guarded call with a panic naming what free() found; the lock is not held. */
_Noreturn static void refuse_pointer(void *pc, const void *address, int twice) {
  char message[128];
  snprintf(message, sizeof message, "free: 0x%lx %s", (unsigned long)(uintptr_t)address,
           twice ? "freed twice" : "is not an address malloc returned");
  clkm_guard_panic(message, pc);
}

_Noreturn static void refuse_redzone(void *pc, const char *which, size_t size, uint64_t caller) {
  char message[160];
  snprintf(message, sizeof message,
           "free: redzone %s a %lu-byte allocation (from 0x%lx) overwritten", which,
           (unsigned long)size, (unsigned long)caller);
  clkm_guard_panic(message, pc);
}

/* Kernel code, never inlined into malloc() (see deallocate). */
__attribute__((noinline)) static void *allocate(size_t size, int type, int flags, void *pc) {
  int canfail = (flags & M_CANFAIL) != 0;
  if (size > CLKM_MALLOC_MAX) {
    char message[128];
    if (canfail) {
      snprintf(message, sizeof message, "malloc(): allocation too large, type = %d, size = %lu\n",
               type, (unsigned long)size);
      clkm_log_text(message);
      return NULL;
    }
    snprintf(message, sizeof message, "malloc: allocation too large, type = %d, size = %lu", type,
             (unsigned long)size);
    clkm_guard_panic(message, pc);
  }
  int o = owner_index(clkm_current_module);
  uint64_t caller = (uint64_t)(uintptr_t)pc;
  char *p = NULL;
  if (size > CLKM_MALLOC_SMALL_MAX) {
    p = large_alloc(o, size, caller); /* mmap'd: already zero */
  } else {
    lock();
    setup();
    {
      unsigned k = class_of[(size + 15) / 16];
      struct owner *ow = &owners[o];
      struct slab *s = ow->avail[k];
      if (s == NULL && (s = slab_new(o, k)) != NULL) slab_push(&ow->avail[k], s);
      if (s != NULL) {
        if (s->idle) {
          s->idle = 0;
          ow->idle[k]--;
        }
        unsigned i = slab_take(s);
        struct slot *slot = &s->slots[i];
        slot->caller = caller;
        slot->seq = sequence++;
        slot->size = (uint16_t)size;
        slot->state = SLOT_LIVE;
        if (++s->nlive == s->nslots) {
          slab_unlink(&ow->avail[k], s);
          slab_push(&ow->full[k], s);
          s->full = 1;
        }
        ow->count++;
        ow->bytes += size;
        p = slot_data(s, i);
        fill(p - REDZONE, REDZONE);
        fill(p + size, s->csize - size + REDZONE);
      }
    }
    unlock();
    if (p != NULL && (flags & M_ZERO)) memset(p, 0, size);
  }
  if (p == NULL) {
    /* M_NOWAIT never sleeps and M_CANFAIL may fail; M_WAITOK alone would wait forever. */
    if ((flags & M_NOWAIT) || canfail) return NULL;
    char message[128];
    snprintf(message, sizeof message, "malloc: out of memory for %lu bytes", (unsigned long)size);
    clkm_guard_panic(message, pc);
  }
  return p;
}

CLKM_MODAPI void *clkm_malloc(size_t size, int type, int flags) {
  return allocate(size, type, flags, __builtin_return_address(0));
}

/* What free() found, decided under the lock. */
enum { FREED, NOT_RETURNED, FREED_TWICE, REDZONE_AFTER, REDZONE_BEFORE };
struct verdict {
  int found;
  size_t size;     /* of the allocation, for redzones */
  uint64_t caller; /* its malloc caller, for redzones */
  char *map;       /* a large allocation's mapping, to unmap once the lock is released */
  size_t maplen;
};

/* Frees p if it is a live allocation with its redzones intact. Kernel code, never inlined into
 * free(): a fault here is the kernel's, not unwound into an oops with the lock held. */
__attribute__((noinline)) static struct verdict deallocate(char *p) {
  struct verdict v = {FREED, 0, 0, NULL, 0};
  lock();
  int in_arena;
  struct slab *s = slab_at(p, &in_arena);
  if (in_arena) {
    /* Slot i's data is at base + i * stride + REDZONE. With offsets below 2^18 and strides
     * below 2^16, (offset * ceil(2^40 / stride)) >> 40 is offset / stride exactly. */
    uint64_t at = s ? (uint64_t)(p - s->base) - REDZONE : 0;
    uint64_t i = s ? (at * s->reciprocal) >> 40 : 0;
    if (s == NULL || p < s->base + REDZONE || i * s->stride != at || i >= s->nslots) {
      v.found = NOT_RETURNED;
    } else if (s->slots[i].state != SLOT_LIVE) {
      v.found = s->slots[i].state == SLOT_FREED ? FREED_TWICE : NOT_RETURNED;
    } else {
      struct slot *slot = &s->slots[i];
      v.size = slot->size;
      v.caller = slot->caller;
      if (!intact(p + v.size, s->csize - v.size + REDZONE)) v.found = REDZONE_AFTER;
      else if (!intact(p - REDZONE, REDZONE)) v.found = REDZONE_BEFORE;
    }
    if (v.found == FREED) {
      s->slots[i].state = SLOT_FREED;
      s->freemap[i / 64] |= 1ull << (i % 64);
      struct owner *ow = &owners[s->owner];
      ow->count--;
      ow->bytes -= v.size;
      s->nlive--;
      if (s->full) {
        slab_unlink(&ow->full[s->klass], s);
        slab_push(&ow->avail[s->klass], s);
        s->full = 0;
      }
      /* Keep a few empty slabs per owner and class; give the others back. */
      if (s->nlive == 0) {
        if (ow->idle[s->klass] < IDLE_SLABS) {
          s->idle = 1;
          ow->idle[s->klass]++;
        } else {
          slab_unlink(&ow->avail[s->klass], s);
          slab_release(s);
        }
      }
    }
    unlock();
    return v;
  }
  struct large *r = large_find(p);
  if (r == NULL) {
    v.found = recent_contains(p) ? FREED_TWICE : NOT_RETURNED;
  } else if (!large_intact(r)) {
    v.found = REDZONE_AFTER;
    v.size = r->size;
    v.caller = r->caller;
  } else {
    large_unlink(r);
    recent_large[recent_next] = (uintptr_t)p;
    recent_next = (recent_next + 1) % RECENT_LARGE;
    v.map = r->map;
    v.maplen = r->maplen;
    r->next = large_pool;
    large_pool = r;
  }
  unlock();
  return v;
}

CLKM_MODAPI void clkm_free(void *addr, int type) {
  (void)type;
  void *pc = __builtin_return_address(0);
  if (addr == NULL) return;
  struct verdict v = deallocate(addr);
  switch (v.found) {
  case NOT_RETURNED: refuse_pointer(pc, addr, 0);
  case FREED_TWICE: refuse_pointer(pc, addr, 1);
  case REDZONE_AFTER: refuse_redzone(pc, "of", v.size, v.caller);
  case REDZONE_BEFORE: refuse_redzone(pc, "before", v.size, v.caller);
  default: break;
  }
  if (v.map != NULL) munmap(v.map, v.maplen);
}

/* ---- Accounting and release ---- */

/* Ids beyond the owner table share the kernel's bucket: they are neither counted nor released
 * on their own. */
static int own_bucket(int id) { return id == -1 || owner_index(id) != 0; }

void clkm_module_allocations(int id, uint64_t *count, uint64_t *bytes) {
  *count = *bytes = 0;
  if (!own_bucket(id)) return;
  lock();
  struct owner *ow = &owners[owner_index(id)];
  *count = ow->count;
  *bytes = ow->bytes;
  unlock();
}

/* Keeps the report's list the oldest allocations, in allocation order. */
static void note(clkm_leak_report_t *report, uint64_t address, uint64_t size, uint64_t caller,
                 uint32_t seq, int overwritten, uint32_t *seqs) {
  report->count++;
  report->bytes += size;
  if (overwritten) report->overwritten++;
  size_t room = sizeof report->oldest / sizeof report->oldest[0];
  size_t n = report->listed;
  if (n == room) {
    if (seq >= seqs[n - 1]) return;
    n--;
  } else {
    report->listed++;
  }
  while (n > 0 && seqs[n - 1] > seq) {
    report->oldest[n] = report->oldest[n - 1];
    seqs[n] = seqs[n - 1];
    n--;
  }
  report->oldest[n] = (clkm_allocation_t){address, size, caller, overwritten};
  seqs[n] = seq;
}

void clkm_module_allocations_release(int id, clkm_leak_report_t *report) {
  memset(report, 0, sizeof *report);
  uint32_t seqs[sizeof report->oldest / sizeof report->oldest[0]];
  if (!own_bucket(id)) return;
  lock();
  struct owner *ow = &owners[owner_index(id)];
  for (unsigned k = 0; k < NCLASSES; k++) {
    struct slab **lists[2] = {&ow->avail[k], &ow->full[k]};
    for (int l = 0; l < 2; l++) {
      while (*lists[l] != NULL) {
        struct slab *s = *lists[l];
        for (unsigned i = 0; i < s->nslots; i++) {
          struct slot *slot = &s->slots[i];
          if (slot->state != SLOT_LIVE) continue;
          char *p = slot_data(s, i);
          int overwritten = !intact(p + slot->size, s->csize - slot->size + REDZONE) ||
                            !intact(p - REDZONE, REDZONE);
          note(report, (uint64_t)(uintptr_t)p, slot->size, slot->caller, slot->seq, overwritten,
               seqs);
        }
        slab_unlink(lists[l], s);
        slab_release(s);
      }
    }
  }
  while (ow->large != NULL) {
    struct large *r = ow->large;
    note(report, (uint64_t)(uintptr_t)r->user, r->size, r->caller, r->seq, !large_intact(r), seqs);
    large_unlink(r);
    recent_large[recent_next] = (uintptr_t)r->user;
    recent_next = (recent_next + 1) % RECENT_LARGE;
    munmap(r->map, r->maplen);
    r->next = large_pool;
    large_pool = r;
  }
  ow->count = 0;
  ow->bytes = 0;
  memset(ow->idle, 0, sizeof ow->idle);
  unlock();
}

size_t clkm_malloc_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("malloc", clkm_malloc),
      CLKM_FUNC("free", clkm_free),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
