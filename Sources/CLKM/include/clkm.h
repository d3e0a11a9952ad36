/* CLKM: the C half of the lkm kernel, for lkmd's Swift code.
 *
 * It holds what Swift cannot do or what modules call with the C ABI: the kernel functions
 * modules link against (the printf family is variadic), the module records and the generic
 * dispatcher (a port of OpenBSD's kern_lkm.c), the system call table, guarded calls into module
 * code with sigsetjmp and a fault/watchdog signal handler, and the message buffer.
 *
 * Our own symbols are clkm_<verb>_<noun>; modules reach the kernel functions under OpenBSD's
 * names through lkmd's exported symbol table (clkm_export_table). */
#ifndef CLKM_H
#define CLKM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OpenBSD errno numbers the kernel returns (sys/errno.h). */
enum {
  CLKM_EPERM = 1, CLKM_ENOENT = 2, CLKM_ENXIO = 6, CLKM_ENOMEM = 12, CLKM_EACCES = 13,
  CLKM_EFAULT = 14, CLKM_EBUSY = 16, CLKM_EEXIST = 17, CLKM_ENODEV = 19, CLKM_EINVAL = 22,
  CLKM_ENFILE = 23, CLKM_ENAMETOOLONG = 63, CLKM_ENOSYS = 78
};

/* Module types (MODTYPE). */
enum { CLKM_LM_SYSCALL = 0, CLKM_LM_VFS = 1, CLKM_LM_DEV = 2, CLKM_LM_EXEC = 3, CLKM_LM_MISC = 4 };

/* ---- Kernel initialisation ---- */

/* Maps the kernel data arena below 2 GiB (sysent, hz, time_second, securelevel, hostname,
 * version) and installs the fault and watchdog handlers. Returns 0, or an errno. */
int clkm_kernel_init(const char *_Nonnull version_string, const char *_Nonnull host_name,
                     int securelevel);

/* The kernel's exported symbols: name, address, whether it is a function. */
typedef struct clkm_export {
  const char *_Nonnull name;
  void *_Nonnull address;
  int is_function;
} clkm_export_t;
/* Returns the table and stores its length in *count. */
const clkm_export_t *_Nonnull clkm_export_table(size_t *_Nonnull count);

/* ---- Kernel variables ---- */
int clkm_get_securelevel(void);
void clkm_set_securelevel(int level);
const char *_Nonnull clkm_get_hostname(void);
void clkm_set_hostname(const char *_Nonnull name);
const char *_Nonnull clkm_get_version(void);
void clkm_set_time(int64_t seconds);
int clkm_nsysent(void);
/* Whether sysent[n] is the sys_lkmnosys placeholder (n in range). */
int clkm_sysent_is_free(int n);
/* The handler address of sysent[n], or 0. */
uint64_t clkm_sysent_handler(int n);

/* ---- Module records (struct lkm_table) ---- */
typedef struct lkm_table clkm_table;
/* A new record with this id (inserted in id order), image [area, area + size), entry, ver. */
clkm_table *_Nullable clkm_table_new(int id, uint64_t area, uint64_t size, uint64_t entry,
                                     int ver);
/* Unlinks and frees a record. */
void clkm_table_free(clkm_table *_Nonnull t);
/* Marks the record ready (refcnt 1) or not (0). */
void clkm_table_set_ready(clkm_table *_Nonnull t, int ready);

/* What the kernel knows of a loaded module through its private pointer, validated against
 * the module's image. Returns 0, or EFAULT when private (or its name) is not inside the
 * image. */
typedef struct clkm_module_info {
  int type;
  int ver;
  int64_t offset;
  uint64_t private_address;
  char name[32];
} clkm_module_info_t;
int clkm_table_info(const clkm_table *_Nonnull t, clkm_module_info_t *_Nonnull info);

/* ---- Guarded calls into module code ---- */
typedef struct clkm_fault {
  int kind;           /* 0 none, 1 signal, 2 panic, 3 watchdog */
  int signo;
  int code;
  uint64_t address;   /* si_addr */
  uint64_t pc;
  uint64_t registers[18]; /* rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags */
  char message[256];  /* the panic message */
} clkm_fault_t;

/* Registers a module's text, so faults there are the module's. */
void clkm_register_module_text(int id, uint64_t start, uint64_t end);
void clkm_unregister_module_text(int id);
/* The module current requests run on behalf of (for malloc accounting and uprintf); -1 none. */
void clkm_set_current_module(int id);
/* The watchdog for guarded calls, in seconds (0 = none). */
void clkm_set_watchdog(unsigned seconds);

/* entry(t, cmd, ver); returns 0 and stores the result, or 1 with *fault filled. */
int clkm_call_entry(uint64_t entry, clkm_table *_Nonnull t, int cmd, int ver,
                    int *_Nonnull result, clkm_fault_t *_Nonnull fault);
/* sysent[n].sy_call(p, args, retval) with a process context; returns 0 and stores the errno
 * and retval[0], or 1 with *fault filled. ENOSYS for an out-of-range n. */
int clkm_call_syscall(int n, int pid, unsigned uid, const char *_Nonnull comm,
                      const int64_t *_Nonnull args, int nargs, int *_Nonnull error,
                      int64_t *_Nonnull retval, clkm_fault_t *_Nonnull fault);
/* void f(void) (constructors, destructors). */
int clkm_call_void(uint64_t function, clkm_fault_t *_Nonnull fault);

/* ---- Message buffer, console, uprintf ---- */
/* Appends text to the message buffer and the console. */
void clkm_log_text(const char *_Nonnull text);
/* Copies the message buffer (oldest first) into buf; returns the length it has. */
size_t clkm_msgbuf_read(char *_Nullable buf, size_t size);
/* Takes what modules uprintf-ed during the current request (and clears it). */
size_t clkm_uprintf_take(char *_Nullable buf, size_t size);
/* Whether console output goes to stdout (1) or nowhere (0). */
void clkm_set_console(int enabled);

/* ---- malloc(9) accounting ---- */
/* Allocations a module has not freed: count and bytes. */
void clkm_module_allocations(int id, uint64_t *_Nonnull count, uint64_t *_Nonnull bytes);
/* Forgets a module's allocation counters (its memory is not freed: modules may hand it on). */
void clkm_module_allocations_reset(int id);

/* Hook for the subsystems of later module types (VFS, DEV, EXEC): lkmdispatch calls it for
 * those types. Returns an OpenBSD errno. */
typedef int (*clkm_type_handler_t)(clkm_table *_Nonnull t, int cmd);
void clkm_set_type_handler(int type, clkm_type_handler_t _Nullable handler);

#ifdef __cplusplus
}
#endif
#endif
