/* What the kernel's C files declare for each other: the one internal header. Every .c file
 * includes it (and nothing of another's).
 *
 * The files call each other one way, each only the files listed before it:
 *
 *   kern_data.c    the data arenas below 2 GiB (clkm_kd: sysent and the kernel variables;
 *                  clkm_dd: the device and execution switches)
 *   subr_log.c     the message buffer and the status (the memory shared with the supervisor),
 *                  the console, what uprintf gathers for the requesting process
 *   kern_tls.c     modules' thread-local storage: the static reservation, each loaded module's
 *                  initial image, copied into a thread when it enters module code
 *   kern_trap.c    guarded calls into module code and the signals that end them, the module
 *                  memory ranges, the threads modules start, the process a thread runs for
 *   kern_subr.c    strings and memory, copy(9), the system call table and its built-in calls
 *   subr_libkern.c the rest of libkern (strncpy, strnlen, memchr, bcmp, ffs, timingsafe_bcmp, ...)
 *   rnd.c          arc4random(9): a ChaCha20 generator keyed from getrandom(2)
 *   kern_tc.c      the clocks: uptime, the get*time forms, time_second and time_uptime
 *   subr_prf.c     the printf family
 *   kern_ssp.c     the stack protector's runtime; subr_kubsan.c the undefined behaviour
 *                  sanitizer's (kubsan): what instrumented modules call (they do not call
 *                  each other)
 *   kern_malloc.c  malloc(9)
 *   kern_synch.c   the big kernel lock, tsleep and wakeup, spl, the requests kernel threads serve
 *   kern_timeout.c timeout(9) and the callout thread
 *   subr_pool.c    pool(9): items on pages of the kernel's, the pool's state kept from the module
 *   kern_prot.c    credentials: struct ucred for every request, crget/crfree, suser
 *   kern_lkm.c     module records and the generic dispatcher (OpenBSD's kern_lkm.c), the kernel
 *                  variables, the system call table's audit
 *   kern_conf.c    device switches (bdevsw, cdevsw, uiomove); kern_exec.c execution
 *                  interpreters: subsystems, which do not call each other
 * and the files written against the module headers (kern_local.h), as OpenBSD's are:
 *   kern_descrip.c descriptor tables and open files; close, fcntl, fstat
 *   kern_proc.c    processes (struct proc per client), getpid and friends, __sysctl
 *   vfs_init.c     vnode operation descriptors and vectors, the file system types (LM_VFS)
 *   vfs_subr.c     vnodes, mounts, VOP_* dispatch (guarded), the generic operations
 *   spec_vnops.c   device special files: the vnode operations that call the drivers
 *   vfs_rootfs.c   the root file system (directories and device nodes, in memory)
 *   vfs_lookup.c   namei
 *   vfs_vnops.c    vnode files: vn_open, read, write, ioctl, poll, stat, close; open(2)
 *   sys_generic.c  read, write, pread, pwrite, ioctl, poll; selrecord and selwakeup
 *   vfs_syscalls.c the path and file system calls (mount, mkdir, rename, stat, getdents...)
 *   dev_lkm.c      /dev/lkm's ioctls (LMSTAT, LMUNLOAD, LMLOADOBJ)
 *   init_sysent.c  the system call table as booted
 *   kern_main.c    the kernel assembled: initialisation, the exported symbol table, what is done
 *                  for every subsystem when a module goes, the audit of every table
 *
 * Each file that gives modules functions lists them in its own clkm_*_exports (name, address,
 * function or data); kern_main.c puts the lists together. */
#ifndef CLKM_INTERNAL_H
#define CLKM_INTERNAL_H

#include "clkm.h"
#include "clkm_abi.h"
#include "lkmshared.h"

#include <setjmp.h>
#include <stdarg.h>

/* Fills table (room entries) with a file's exports; returns how many. */
typedef size_t clkm_exports_fn(clkm_export_t *table, size_t room);
#define CLKM_FUNC(name, fn) {name, (void *)(fn), 1}
#define CLKM_DATA(name, var) {name, (void *)(var), 0}

/* ---- kern_data.c ---- */
/* Maps the kernel's data arenas below 2 GiB, zeroed; 0 or an errno. */
int clkm_kernel_arena_init(void);
/* Makes [p, p + n) (whole pages) fault on any access: guard regions where the system has them
 * (madvise(MADV_GUARD_INSTALL), Linux 6.13: a mapping stays one), PROT_NONE pages otherwise or
 * with LKM_GUARD_REGIONS=0 in the environment. 0, or -1 with errno. */
int clkm_guard_pages(char *p, size_t n);
/* Makes [p, p + n), guarded by clkm_guard_pages, readable and writable (and empty) again. */
int clkm_unguard_pages(char *p, size_t n);
/* The kernel variables by number, for the files written against the module headers (the
 * numbers are kern_local.h's CLKM_KV_*). */
enum {
  CLKM_KV_SYSENT, CLKM_KV_NSYSENT, CLKM_KV_HZ, CLKM_KV_TIME_SECOND, CLKM_KV_SECURELEVEL,
  CLKM_KV_HOSTNAME, CLKM_KV_VERSION, CLKM_KV_TICKS, CLKM_KV_CDEVSW, CLKM_KV_BDEVSW,
  CLKM_KV_NCHRDEV, CLKM_KV_NBLKDEV
};
void *clkm_kvar(int which);

/* ---- subr_log.c ---- */
/* The shared area (a private mapping until clkm_attach_shared). */
lkm_shared_t *clkm_shared(void);
void clkm_msgbuf_append(const char *text, size_t n);
void clkm_console_write(const char *text, size_t n);
/* Appends text to the message buffer and the console, or to what the requesting process
 * receives (uprintf). Both lock; neither reads module memory. */
void clkm_print_text(const char *text, size_t n);
void clkm_print_user(const char *text, size_t n);
/* printf-formatted line to the message buffer and console (kernel messages, not modules'). */
void clkm_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies a file's list of exports into table if it fits; returns how many it copied (0 when it
 * does not fit: kern_main.c checks that every list was taken). */
size_t clkm_copy_exports(clkm_export_t *table, size_t room, const clkm_export_t *list, size_t n);

/* ---- kern_tls.c ---- */
/* Copies into the calling thread's reservation the images of the modules loaded since it last
 * did (kern_trap.c, before every guarded call into module code). */
void clkm_tls_refresh(void);

/* ---- kern_trap.c ---- */
/* Installs the signal handlers and prepares the calling thread (kern_main.c, at boot). */
void clkm_trap_init(void);
/* The module the current thread works for (malloc accounting, uprintf, oopses); -1 none. */
extern __thread int clkm_current_module __attribute__((tls_model("initial-exec")));
/* Kernel code holding a lock increments this (clkm_critical_enter/leave); the watchdog never
 * unwinds a guarded call through such code. */
extern __thread volatile int clkm_critical __attribute__((tls_model("initial-exec")));
static inline void clkm_critical_enter(void) { clkm_critical++; }
static inline void clkm_critical_leave(void) { clkm_critical--; }
/* Where a copy from or to module memory (copyin, the printf engine's reads) resumes when the
 * memory faults: set clkm_copy_jmp, then clkm_copy_active. */
extern __thread sigjmp_buf *volatile clkm_copy_jmp __attribute__((tls_model("initial-exec")));
extern __thread volatile int clkm_copy_active __attribute__((tls_model("initial-exec")));
int clkm_guard_active(void);
/* Ends the guarded call with a panic; `pc` is where the module called the kernel. */
_Noreturn void clkm_guard_panic(const char *message, void *pc);
/* A kernel thunk that calls module code, guarded like the calls into module code. */
int clkm_guarded_call(int (*thunk)(void *), void *context, clkm_fault_t *fault);
/* function(argument), guarded: a timeout. 0, or 1 with *fault filled. */
int clkm_call_timeout(uint64_t function, uint64_t argument, clkm_fault_t *fault);
/* Writes an oops for a fault in a call the C side made on its own (a timeout, a thread a module
 * started) and marks the module faulted. */
void clkm_report_fault(const clkm_fault_t *fault, int module, const char *during);
/* tsleep's: no watchdog while the thread sleeps. */
void clkm_watchdog_pause(void);
void clkm_watchdog_resume(void);
/* The id of the module whose image holds address, or -1. */
int clkm_module_at(uint64_t address);
int clkm_in_module_text(uint64_t address);
/* Whether address is code of the kernel's executable (its own or the functions modules call). */
int clkm_is_kernel_function(uint64_t address);
/* Whether address is code the kernel may call: the kernel's, or a loaded module's text. */
int clkm_is_live_code(uint64_t address);
/* Whether a function pointer taken from a table may be called: module text, or one of the
 * kernel's functions for modules. */
int clkm_callable(const void *function);
/* The exported functions' addresses, sorted (kern_main.c, at boot), and whether fn is one. */
void clkm_set_export_functions(const uint64_t *sorted, size_t n);
int clkm_kernel_export_function(const void *fn);
/* thunk(context) guarded on behalf of module (see kern_local.h); EFAULT with a pending oops. */
int clkm_module_call(int module, int (*thunk)(void *), void *context);

/* The credentials of the request the current thread serves (kern_prot.c sets them; the
 * system call dispatch puts them in the struct proc it makes). */
extern __thread struct clkm_ucred *clkm_thread_ucred __attribute__((tls_model("initial-exec")));

/* ---- kern_subr.c ---- */
int clkm_sys_lkmnosys(struct clkm_proc *, void *, clkm_register_t *);
int clkm_nosys(struct clkm_proc *, void *, clkm_register_t *);
int clkm_copyin(const void *uaddr, void *kaddr, size_t len);
int clkm_copyout(const void *kaddr, void *uaddr, size_t len);
int clkm_copyinstr(const void *uaddr, void *kaddr, size_t len, size_t *done);
/* copyin without saving and restoring the signal mask (cheaper; same guarantees). */
int clkm_copy_quick(const void *from, void *to, size_t len);
/* The process (client) the current request runs for (kern_proc.c sets it). */
struct clkm_proc *clkm_current_proc(void);
void clkm_set_current_proc(struct clkm_proc *p);
size_t clkm_subr_exports(clkm_export_t *table, size_t room);

/* ---- subr_libkern.c, rnd.c, kern_tc.c ---- */
size_t clkm_libkern_exports(clkm_export_t *table, size_t room);
size_t clkm_rnd_exports(clkm_export_t *table, size_t room);
/* Takes the boot instant (kernel initialisation). */
void clkm_tc_init(void);
/* Brings time_second and time_uptime up to date (every tick, every request). */
void clkm_tc_windup(void);
size_t clkm_tc_exports(clkm_export_t *table, size_t room);

/* ---- subr_prf.c ---- */
/* The printf engine: formats fmt into buf, which holds CLKM_PRF_MAX_OUTPUT bytes (not
 * NUL-terminated), with the bounds described in clkm.h; returns the length. A fault in it (a
 * bad va_list) is charged to the calling module; bad format or %s pointers are not faults. */
size_t clkm_format_text(char *buf, const char *fmt, va_list ap);
int clkm_printf(const char *fmt, ...);
int clkm_vprintf(const char *fmt, va_list ap);
void clkm_uprintf(const char *fmt, ...);
void clkm_log(int level, const char *fmt, ...);
int clkm_puts(const char *s);
int clkm_putchar(int c);
/* C's snprintf within the bounds: writes min(n, size - 1) bytes and a NUL (nothing if size is
 * 0) and returns n, the length of the bounded output. */
int clkm_snprintf(char *buf, size_t size, const char *fmt, ...);
int clkm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
_Noreturn void clkm_panic(const char *fmt, ...);
size_t clkm_prf_exports(clkm_export_t *table, size_t room);

/* ---- kern_ssp.c, subr_kubsan.c: the runtimes of instrumented modules ---- */
/* Draws the stack protector's canary (__stack_chk_guard), at boot. */
void clkm_ssp_init(void);
size_t clkm_ssp_exports(clkm_export_t *table, size_t room);
size_t clkm_kubsan_exports(clkm_export_t *table, size_t room);

/* ---- kern_malloc.c ---- */
/* malloc(9): M_WAITOK 1, M_NOWAIT 2, M_CANFAIL 4, M_ZERO 8, as in sys/malloc.h. Never NULL
 * unless M_NOWAIT or M_CANFAIL; an allocation over CLKM_MALLOC_MAX or out of memory without
 * them is a panic. */
void *clkm_malloc(size_t size, int type, int flags);
/* free(9): NULL is ignored; a pointer that is not a live allocation, or whose redzone was
 * overwritten, is a panic naming what was found. */
void clkm_free(void *addr, int type);
size_t clkm_malloc_exports(clkm_export_t *table, size_t room);

/* ---- kern_synch.c ---- */
#define CLKM_PCATCH 0x100
#define CLKM_EINTR 4
#define CLKM_EWOULDBLOCK 35
#define CLKM_EAGAIN 35
enum {
  CLKM_IPL_NONE = 0, CLKM_IPL_SOFTCLOCK = 1, CLKM_IPL_SOFTNET = 2, CLKM_IPL_BIO = 3,
  CLKM_IPL_NET = 4, CLKM_IPL_TTY = 5, CLKM_IPL_VM = 6, CLKM_IPL_CLOCK = 7, CLKM_IPL_HIGH = 8
};
int clkm_tsleep(const volatile void *ident, int priority, const char *wmesg, int timo);
void clkm_wakeup(const volatile void *ident);
void clkm_wakeup_one(const volatile void *ident);
/* Whether the request the calling thread serves was cancelled (its client went away). */
int clkm_request_cancelled(void);
/* Takes the big lock unless the calling thread holds it; returns whether it took it (then the
 * caller lets go with clkm_kernel_unlock). */
int clkm_kernel_lock_take(void);
size_t clkm_synch_exports(clkm_export_t *table, size_t room);

/* ---- kern_timeout.c ---- */
size_t clkm_timeout_exports(clkm_export_t *table, size_t room);

/* ---- subr_pool.c ---- */
void clkm_pool_init(void *pp, size_t size, unsigned align, unsigned ioff, int flags,
                    const char *wchan, void *palloc);
void *clkm_pool_get(void *pp, int flags);
/* pool_get for the kernel's own pools: never a panic for an item written after pool_put. */
void *clkm_pool_get_kernel(void *pp, int flags);
void clkm_pool_put(void *pp, void *v);
/* Whether v is an item pool pp handed out and has not had back (no panic either way). */
int clkm_pool_item_live(const void *pp, const void *v);
/* Sets up pool_allocator_nointr (boot). */
void clkm_pool_bootstrap(void);
size_t clkm_pool_exports(clkm_export_t *table, size_t room);

/* ---- kern_prot.c ---- */
/* Sets up the pool of ucreds (boot, after clkm_trap_init). */
void clkm_prot_init(void);
size_t clkm_prot_exports(clkm_export_t *table, size_t room);

/* ---- kern_lkm.c ---- */
/* Remembers the system call table as booted (the audit puts slots back from it). */
void clkm_sysent_save_boot(void);
int clkm_lkmexists(struct lkm_table *);
int clkm_in_module_image(const void *p, size_t length);
struct lkm_table *clkm_table_containing(const void *p);
/* Appends one line to the report of the current table audit (printf format). */
void clkm_audit_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Starts a table audit's report, and audits the system call table. */
void clkm_audit_begin(void);
void clkm_audit_sysent(void);
/* The audit's report: copies it into buf (size bytes) and returns its length. */
size_t clkm_audit_report(char *buf, size_t size);
size_t clkm_lkm_exports(clkm_export_t *table, size_t room);

/* ---- kern_conf.c, kern_exec.c: the subsystems ---- */
/* kern_conf.c: what every call into a device entry checks. */
int clkm_placeholder(const void *function);
int clkm_lkmenodev(void);
int clkm_enodev(void);
int clkm_nullop(void *);
/* Each subsystem: its LM_* handler, set up at boot, what it forgets of a module that goes,
 * its part of the table audit and its exports. */
int clkm_dev_handler(struct lkm_table *, int);
int clkm_devsw_init(void);
void clkm_devsw_forget(int id);
void clkm_audit_devsw(void);
size_t clkm_conf_exports(clkm_export_t *table, size_t room);
void clkm_devsw_set_ioctl(int major, int (*ioctl)(clkm_dev_t, unsigned long, char *, int,
                                                  struct clkm_proc *));
int clkm_exec_handler(struct lkm_table *, int);
void clkm_exec_init(void);
void clkm_exec_forget(int id);
void clkm_audit_execsw(void);
size_t clkm_exec_exports(clkm_export_t *table, size_t room);

/* ---- The files written against the module headers (kern_local.h) ----
 * What kern_main.c calls of them, with the types both sides agree on. */
size_t clkm_descrip_exports(clkm_export_t *table, size_t room);
int clkm_vfs_handler(struct lkm_table *, int);
size_t clkm_vfs_init_exports(clkm_export_t *table, size_t room);
void vfs_init_kernel(void);
void vfs_forget_module(int id);
void clkm_audit_vfs(void);
size_t clkm_vfs_subr_exports(clkm_export_t *table, size_t room);
void spec_forget(void);
size_t clkm_spec_exports(clkm_export_t *table, size_t room);
int clkm_rootfs_init(void);
size_t clkm_lookup_exports(clkm_export_t *table, size_t room);
size_t clkm_generic_exports(clkm_export_t *table, size_t room);
void clkm_devlkm_init(void);
void clkm_sysent_install(void);
size_t clkm_sysent_exports(clkm_export_t *table, size_t room);

#endif
