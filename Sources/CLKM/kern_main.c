/* The kernel assembled (as OpenBSD's init_main.c assembles its subsystems): initialisation in
 * order, the exported symbol table made of every file's list, and what is done for every
 * subsystem when a module goes or the tables are audited. The top of the kernel's C files: it
 * calls the others, none calls it (see clkm_internal.h). */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdlib.h>
#include <string.h>

static void export_functions_init(void);

int clkm_kernel_init(const char *version_string, const char *host_name, int securelevel) {
  int error = clkm_kernel_arena_init();
  if (error) return error;
  clkm_sysent_install();
  clkm_sysent_save_boot();
  if ((error = clkm_devsw_init()) != 0) return error;
  clkm_devlkm_init();
  clkm_exec_init();
  export_functions_init();
  vfs_init_kernel();
  if ((error = clkm_rootfs_init()) != 0) return error;
  clkm_set_type_handler(CLKM_LM_DEV, clkm_dev_handler);
  clkm_set_type_handler(CLKM_LM_VFS, clkm_vfs_handler);
  clkm_set_type_handler(CLKM_LM_EXEC, clkm_exec_handler);
  strncpy(clkm_kd->version, version_string, sizeof clkm_kd->version - 1);
  strncpy(clkm_kd->hostname, host_name, sizeof clkm_kd->hostname - 1);
  clkm_kd->securelevel = securelevel;
  clkm_tc_init();
  clkm_pool_bootstrap();
  clkm_ssp_init();
  clkm_trap_init();
  clkm_prot_init();
  return 0;
}

/* Every file that gives modules something, in the order the table lists them. */
static clkm_exports_fn *const exporters[] = {
    clkm_prf_exports,      clkm_malloc_exports,    clkm_subr_exports,   clkm_synch_exports,
    clkm_timeout_exports,  clkm_lkm_exports,       clkm_conf_exports,   clkm_exec_exports,
    clkm_ssp_exports,      clkm_kubsan_exports,    clkm_libkern_exports, clkm_rnd_exports,
    clkm_tc_exports,       clkm_pool_exports,      clkm_prot_exports,   clkm_descrip_exports,
    clkm_vfs_init_exports, clkm_vfs_subr_exports,  clkm_spec_exports,   clkm_lookup_exports,
    clkm_generic_exports,  clkm_sysent_exports,
};

#define MAX_EXPORTS 1024

const clkm_export_t *clkm_export_table(size_t *count) {
  static clkm_export_t table[MAX_EXPORTS];
  static size_t n;
  if (n == 0) {
    for (size_t i = 0; i < sizeof exporters / sizeof exporters[0]; i++) {
      size_t added = exporters[i](table + n, MAX_EXPORTS - n);
      /* A list that does not fit is our bug: MAX_EXPORTS is too small. */
      if (added == 0) __builtin_trap();
      n += added;
    }
  }
  *count = n;
  return table;
}

static int compare_address(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* The exported functions, sorted, for what may sit in a table the kernel calls through. */
static void export_functions_init(void) {
  static uint64_t sorted[MAX_EXPORTS];
  size_t count, n = 0;
  const clkm_export_t *table = clkm_export_table(&count);
  for (size_t i = 0; i < count; i++) {
    if (table[i].is_function) sorted[n++] = (uint64_t)(uintptr_t)table[i].address;
  }
  qsort(sorted, n, sizeof sorted[0], compare_address);
  clkm_set_export_functions(sorted, n);
}

void clkm_forget_module(int id) {
  if (id < 0) return;
  clkm_devsw_forget(id);
  spec_forget();
  clkm_exec_forget(id);
  vfs_forget_module(id);
}

/* Only sysent: what a system call is about to follow (the other tables are audited when
 * module memory is freed, at an unload or a failed load; a wild pointer in them is refused
 * when it would be called). */
size_t clkm_audit_sysent_only(char *buf, size_t size) {
  clkm_audit_begin();
  clkm_audit_sysent();
  return clkm_audit_report(buf, size);
}

size_t clkm_audit_tables(char *buf, size_t size) {
  clkm_audit_begin();
  clkm_audit_sysent();
  clkm_audit_devsw();
  clkm_audit_execsw();
  clkm_audit_vfs();
  return clkm_audit_report(buf, size);
}
