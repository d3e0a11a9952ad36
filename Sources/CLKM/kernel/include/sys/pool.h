/* lkm kernel headers: <sys/pool.h>: pool(9), OpenBSD 5.2's interface: fixed-size items from
 * pages the kernel keeps for the pool.
 *
 * A module declares its struct pool (in its data or its malloc(9) memory) and calls pool_init
 * on it. The kernel keeps the pool's real state in its own memory, keyed by the struct's
 * address, and writes the statistics below into the struct after each call, for the module to
 * read; it never reads them back, so a module that writes its struct pool changes nothing.
 * Items come from pages of the kernel's own, accounted to the module that initialised the pool:
 * when it unloads (or fails to load) with a pool it did not destroy, the pool and its items are
 * reported in the message buffer and freed.
 *
 * pool_get's flags: PR_WAITOK may sleep (tsleep on the pool, the kernel lock let go) while the
 * pool is at its hard limit, until a pool_put; PR_NOWAIT returns NULL instead, and so does
 * PR_WAITOK | PR_LIMITFAIL; PR_ZERO zeroes the item. An item that is not zeroed holds the
 * pattern 0xdeafbeef: a pool_get that finds it changed (the item written after its pool_put) is a
 * panic, as with OpenBSD's DIAGNOSTIC. pool_put of a pointer that is not an item the pool handed
 * out, or of an item put back already, is a panic naming what it found; so is pool_destroy of
 * a pool with items out, and any call on a struct pool that pool_init did not set up.
 *
 * The page allocator argument of pool_init (NULL, &pool_allocator_nointr or a module's own) is
 * accepted and not used: pages are always the kernel's. Items are at most 64 KiB; align is a
 * power of two up to the page size (0: 8). */
#ifndef _SYS_POOL_H_
#define _SYS_POOL_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"
#include "time.h"

struct pool;

struct pool_allocator {
	void *(*pa_alloc)(struct pool *, int, int *);
	void (*pa_free)(struct pool *, void *);
	int pa_pagesz;
	int pa_pagemask;
	int pa_pageshift;
};

/* The module's view of a pool: what the kernel last wrote. */
struct pool {
	struct {                        /* the kernel's list of pools (unused here) */
		struct pool *tqe_next;
		struct pool **tqe_prev;
	} pr_poollist;
	unsigned int pr_size;           /* size of an item, rounded to the alignment */
	unsigned int pr_align;          /* alignment of items */
	unsigned int pr_itemoffset;     /* ioff: the offset in an item that is aligned */
	unsigned int pr_minitems;       /* low water mark, in items */
	unsigned int pr_minpages;       /* the same in pages */
	unsigned int pr_maxpages;       /* high water mark: idle pages kept */
	unsigned int pr_npages;         /* pages the pool has */
	unsigned int pr_itemsperpage;   /* items in a page */
	unsigned int pr_slack;          /* unused bytes in a page */
	unsigned int pr_nitems;         /* items available */
	unsigned int pr_nout;           /* items handed out */
	unsigned int pr_hardlimit;      /* most items out at once */
	unsigned int pr_serial;         /* unique serial number of the pool */
	unsigned int pr_pgsize;         /* bytes in a page */
	struct pool_allocator *pr_alloc; /* as given to pool_init */
	const char *pr_wchan;           /* as given to pool_init: the tsleep(9) identifier */
#define PR_WAITOK	0x0001          /* M_WAITOK */
#define PR_NOWAIT	0x0002          /* M_NOWAIT */
#define PR_LIMITFAIL	0x0004          /* M_CANFAIL */
#define PR_ZERO		0x0008          /* M_ZERO */
#define PR_WANTED	0x0100
	int pr_flags;                   /* PR_WANTED while a pool_get sleeps */
	int pr_roflags;                 /* pool_init's flags */
	int pr_ipl;
	const char *pr_hardlimit_warning; /* as given to pool_sethardlimit */
	struct timeval pr_hardlimit_ratecap;
	struct timeval pr_hardlimit_warning_last;
	unsigned long pr_nget;          /* successful pool_get calls */
	unsigned long pr_nfail;         /* pool_get calls that returned NULL */
	unsigned long pr_nput;          /* pool_put calls */
	unsigned long pr_npagealloc;    /* pages allocated */
	unsigned long pr_npagefree;     /* pages released */
	unsigned int pr_hiwat;          /* most pages the pool had at once */
	unsigned long pr_nidle;         /* pages with no item out */
};

#ifdef _KERNEL
__BEGIN_DECLS
extern struct pool_allocator pool_allocator_nointr;

void pool_init(struct pool *, size_t, u_int, u_int, int, const char *, struct pool_allocator *);
void pool_destroy(struct pool *);
void *pool_get(struct pool *, int);
void pool_put(struct pool *, void *);
void pool_setlowat(struct pool *, int);
void pool_sethiwat(struct pool *, int);
/* The most items out at once: n (EINVAL if more are out already). When pool_get cannot sleep
 * at the limit, warnmess (if not NULL) goes to the log, at most once every ratecap seconds. */
int pool_sethardlimit(struct pool *, u_int, const char *, int);
__END_DECLS
#endif

#endif /* !_SYS_POOL_H_ */
