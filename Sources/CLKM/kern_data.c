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
