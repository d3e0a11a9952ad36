/* The kernel's data arenas, mapped below 2 GiB so that modules compiled -fno-pic or
 * -mcmodel=kernel reach them with 32-bit absolute references: the system call table and the
 * kernel variables (clkm_kd), the device and execution switches (clkm_dd). The first of the
 * kernel's C files: data only, and the guard pages every mapping of the kernel's uses. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct clkm_kdata *clkm_kd;
struct clkm_ddata *clkm_dd;

static void *low_zeroed(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1,
                 0);
  return p == MAP_FAILED ? NULL : p;
}

int clkm_kernel_arena_init(void) {
  clkm_kd = low_zeroed(sizeof *clkm_kd);
  clkm_dd = low_zeroed(sizeof *clkm_dd);
  if (clkm_kd == NULL || clkm_dd == NULL) return CLKM_ENOMEM;
  clkm_kd->nsysent = CLKM_SYS_MAXSYSCALL;
  clkm_kd->hz = 100;
  return 0;
}

/* The address of one of the kernel variables, for the files written against the module
 * headers (kern_local.h), which do not see these structures. */
void *clkm_kvar(int which) {
  switch (which) {
  case CLKM_KV_SYSENT: return clkm_kd->sysent;
  case CLKM_KV_NSYSENT: return &clkm_kd->nsysent;
  case CLKM_KV_HZ: return &clkm_kd->hz;
  case CLKM_KV_TIME_SECOND: return &clkm_kd->time_second;
  case CLKM_KV_SECURELEVEL: return &clkm_kd->securelevel;
  case CLKM_KV_HOSTNAME: return clkm_kd->hostname;
  case CLKM_KV_VERSION: return clkm_kd->version;
  case CLKM_KV_TICKS: return &clkm_kd->ticks;
  case CLKM_KV_CDEVSW: return clkm_dd->cdevsw;
  case CLKM_KV_BDEVSW: return clkm_dd->bdevsw;
  case CLKM_KV_NCHRDEV: return &clkm_dd->nchrdev;
  case CLKM_KV_NBLKDEV: return &clkm_dd->nblkdev;
  default: return NULL;
  }
}

/* ---- Guard pages ---- */

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#define MADV_GUARD_REMOVE 103
#endif

/* Whether the system has guard regions (madvise(MADV_GUARD_INSTALL), Linux 6.13): a guard page
 * is then a marker in the page table that faults as PROT_NONE does, not a mapping of its own,
 * so that an arena's cells stay one mapping and a large allocation one (kern_malloc.c): every
 * mapping is one more for fork(2) to copy, 1 to 2 us each, and the sandbox's fork server forks
 * once a run. -1 not known yet (the first guard page finds out), 0 no (PROT_NONE pages; also
 * with LKM_GUARD_REGIONS=0 in the environment), 1 yes. Threads that find out at once find the
 * same (relaxed atomics). */
static int guard_regions = -1;

/* Makes [p, p + n) fault on any access: a guard region, or PROT_NONE without them. */
int clkm_guard_pages(char *p, size_t n) {
  int known = __atomic_load_n(&guard_regions, __ATOMIC_RELAXED);
  if (known < 0) {
    /* LKM_GUARD_REGIONS=0: PROT_NONE pages even where the system has guard regions. */
    const char *setting = getenv("LKM_GUARD_REGIONS");
    if (setting != NULL && strcmp(setting, "0") == 0) known = 0;
  }
  if (known != 0) {
    if (madvise(p, n, MADV_GUARD_INSTALL) == 0) {
      __atomic_store_n(&guard_regions, 1, __ATOMIC_RELAXED);
      return 0;
    }
    if (known == 1) return -1;
  }
  __atomic_store_n(&guard_regions, 0, __ATOMIC_RELAXED);
  return mprotect(p, n, PROT_NONE);
}

/* Makes [p, p + n), guarded by clkm_guard_pages, readable and writable (and empty) again. */
int clkm_unguard_pages(char *p, size_t n) {
  if (__atomic_load_n(&guard_regions, __ATOMIC_RELAXED) == 1) {
    return madvise(p, n, MADV_GUARD_REMOVE);
  }
  return mprotect(p, n, PROT_READ | PROT_WRITE);
}
