/* The module-facing structures (kernel/include/sys/{lkm,systm,proc}.h) as the kernel's C code
 * sees them. The module headers are not included here (they would clash with the C library's);
 * these definitions must match them byte for byte, which the static assertions and the
 * header-layout test check. */
#ifndef CLKM_ABI_H
#define CLKM_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef long clkm_register_t;

struct clkm_proc {
  int p_pid;
  unsigned p_uid;
  char p_comm[17];
};

typedef int clkm_sy_call_t(struct clkm_proc *, void *, clkm_register_t *);

struct clkm_sysent {
  short sy_narg;
  short sy_argsize;
  int sy_flags;
  clkm_sy_call_t *sy_call;
};

struct lkm_any {
  int lkm_type;
  int lkm_ver;
  char *lkm_name;
  unsigned long lkm_offset;
};

struct lkm_syscall {
  int lkm_type;
  int lkm_ver;
  char *lkm_name;
  unsigned long lkm_offset;
  struct clkm_sysent *lkm_sysent;
  struct clkm_sysent lkm_oldent;
};

union lkm_generic {
  struct lkm_any *lkm_any;
  struct lkm_syscall *lkm_syscall;
};

struct lkm_table {
  struct {
    struct lkm_table *tqe_next;
    struct lkm_table **tqe_prev;
  } list;
  int type;
  unsigned long size;
  unsigned long offset;
  unsigned long area;
  int ver;
  int refcnt;
  int depcnt;
  int id;
  int (*entry)(struct lkm_table *, int, int);
  union lkm_generic private;
  char *syms;
  unsigned long sym_size;
  unsigned long sym_offset;
  unsigned long sym_symsize;
  char *sym_addr;
  int sym_id;
};

_Static_assert(sizeof(struct clkm_sysent) == 16, "struct sysent is 16 bytes");
_Static_assert(sizeof(struct lkm_any) == 24, "struct lkm_any is 24 bytes");
_Static_assert(offsetof(struct lkm_syscall, lkm_sysent) == 24, "lkm_sysent at 24");
_Static_assert(sizeof(struct lkm_table) == 128, "struct lkm_table is 128 bytes");
_Static_assert(offsetof(struct lkm_table, refcnt) == 52, "refcnt at 52");
_Static_assert(offsetof(struct lkm_table, entry) == 64, "entry at 64");
_Static_assert(offsetof(struct lkm_table, private) == 72, "private at 72");
_Static_assert(offsetof(struct lkm_table, sym_id) == 120, "sym_id at 120");

#define CLKM_SYS_MAXSYSCALL 311
#define CLKM_LKM_VERSION 2

/* Functions modules call live in this section, so that a fault inside one during a guarded
 * call is charged to the module that called it. */
#define CLKM_MODAPI __attribute__((section("clkm_modapi"), used, noinline))

/* The kernel data arena (below 2 GiB, so -fno-pic and -mcmodel=kernel modules reach it). */
struct clkm_kdata {
  struct clkm_sysent sysent[CLKM_SYS_MAXSYSCALL];
  int nsysent;
  int hz;
  long time_second;
  int securelevel;
  char hostname[256];
  char version[256];
};
extern struct clkm_kdata *clkm_kd;

/* Internal (kern_subr.c, kern_trap.c) */
int clkm_sys_lkmnosys(struct clkm_proc *, void *, clkm_register_t *);
int clkm_guard_active(void);
void clkm_console_write(const char *, size_t);
void clkm_msgbuf_append(const char *, size_t);
/* Ends the guarded call with a panic; `pc` is where the module called the kernel. */
_Noreturn void clkm_guard_panic(const char *message, void *pc);
extern int clkm_current_module;

#endif
