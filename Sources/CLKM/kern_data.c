/* The kernel's data arenas, mapped below 2 GiB so that modules compiled -fno-pic or
 * -mcmodel=kernel reach them with 32-bit absolute references: the system call table and the
 * kernel variables (clkm_kd), the device and execution switches (clkm_dd). The first of the
 * kernel's C files: data only. */
#define _GNU_SOURCE
#include "clkm_internal.h"

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
