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
  CLKM_ENFILE = 23, CLKM_ENOTTY = 25, CLKM_ENOSPC = 28, CLKM_EOPNOTSUPP = 45,
  CLKM_ENAMETOOLONG = 63, CLKM_ENOSYS = 78, CLKM_EIO = 5, CLKM_ENOEXEC = 8, CLKM_ENOTDIR = 20,
  CLKM_EISDIR = 21
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
#define CLKM_TRACE_MAX 32
typedef struct clkm_fault {
  int kind;           /* 0 none, 1 signal, 2 panic, 3 watchdog */
  int signo;
  int code;           /* si_code */
  int raised;         /* 1: a signal module code raised on the kernel process (kill, abort) */
  int syscall;        /* SIGSYS from the filter: the system call number; else -1 */
  int from_module;    /* SIGSYS from the instruction-pointer filter: the call was made from
                         module memory (not the C library on a module's behalf) */
  uint64_t address;   /* si_addr */
  uint64_t pc;
  uint64_t stack_depth; /* a fault in the guard page below the module stack: bytes deep; else 0 */
  uint64_t registers[18]; /* rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags */
  char message[256];  /* the panic message */
  /* The call trace, innermost first (trace[0] is pc), unwound over the CFI of the modules and
   * of the kernel when the call ended; it stops where the guarded call entered module code. */
  uint64_t trace[CLKM_TRACE_MAX];
  int trace_depth;
} clkm_fault_t;

/* Records the module's .eh_frame (0: none), for call traces through its code. */
void clkm_set_module_eh_frame(int id, uint64_t eh_frame);
/* Runs reader(context) so that a fault in it (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) or a
 * run over `seconds` ends it instead of the kernel: for code that reads module input the kernel
 * did not write (DWARF). Returns what reader returned, or -1 when it was ended. Not inside a
 * guarded call. */
int clkm_call_reader(int (*_Nonnull reader)(void *_Nullable), void *_Nullable context,
                     unsigned seconds);

/* Registers a module's image [start, start + size) and its text [start, text_end), so that
 * faults there are the module's, and lists it in the status the supervisor reads. */
void clkm_register_module(int id, const char *_Nonnull name, uint64_t start, uint64_t size,
                          uint64_t text_end);
void clkm_unregister_module(int id);
/* The name the status shows for a module (its declared name, once it has loaded). */
void clkm_rename_module(int id, const char *_Nonnull name);
/* Marks a module faulted in the status. */
void clkm_mark_faulted(int id);
/* The module current requests run on behalf of (for malloc accounting and uprintf); -1 none. */
void clkm_set_current_module(int id);
/* What the next guarded calls on this thread are (`LKM_E_LOAD`, `system call 210`), for the
 * status the supervisor reads when the kernel dies. */
void clkm_set_activity(const char *_Nonnull what);
/* The watchdog for guarded calls, in seconds (0 = none). */
void clkm_set_watchdog(unsigned seconds);
unsigned clkm_get_watchdog(void);
/* Prepares the calling thread for guarded calls (its signal stack and watchdog timer). */
void clkm_thread_init(void);
/* Thread-local storage for modules (kern_tls.c): a static reservation of CLKM_TLS_RESERVE
 * bytes aligned to CLKM_TLS_ALIGNMENT in every thread's static TLS, at one offset from the
 * thread pointer. The calling thread's address of it. */
#define CLKM_TLS_RESERVE 65536
#define CLKM_TLS_ALIGNMENT 64
void *_Nonnull clkm_tls_reserve_address(void);
/* Makes `size` bytes at `bytes`, then `zeros` zero bytes, the initial contents of a module's
 * range at `offset` from the thread pointer: every thread copies them in at its next entry
 * into module code. 0, or -1 when they cannot be kept. */
int clkm_tls_install(long offset, const void *_Nullable bytes, size_t size, size_t zeros);
/* Forgets the range's image (the module is gone) and zeroes the calling thread's copy. */
void clkm_tls_release(long offset);
/* Threads module code started (through the interposed pthread_create) that still run. */
int clkm_module_thread_count(int id);
/* Calls into the module's code that have not returned (threads asleep in it, for one). */
int clkm_module_active_calls(int id);
/* Whether a call the C side made on its own (a timeout, a module thread) faulted in module id;
 * clear it when the id is given to another module. */
int clkm_module_faulted_in_c(int id);
void clkm_clear_fault_mark(int id);

/* ---- Kernel threads, sleeping, timeouts (kern_synch.c, kern_timeout.c) ---- */
/* The big kernel lock: every request runs with it held; tsleep lets go of it while asleep. */
void clkm_kernel_lock(void);
void clkm_kernel_unlock(void);
/* The request the calling thread serves (its id for cancellation), and its end. */
uint64_t clkm_request_begin(void);
void clkm_request_end(void);
/* Cancels a request (from any thread, without the lock): a PCATCH sleep in it ends with EINTR. */
void clkm_request_cancel(uint64_t token);
/* Starts the callout thread that runs timeouts at hz (lkm-kernel; not a sandbox child, which
 * must stay single-threaded). Returns 0 or an errno. */
int clkm_timeouts_start(void);
/* Cancels what module id left pending (timeouts it added, or whose struct lies in
 * [start, end)); returns how many. With the lock held. */
int clkm_timeout_forget(int id, uint64_t start, uint64_t end);
/* The host functions a module gets the kernel's version of, with --host-symbols. */
const clkm_export_t *_Nonnull clkm_host_interpositions(size_t *_Nonnull count);
/* "libc.so.6: memcpy+0x1f" for an address outside modules (dladdr); 0 if nothing is known. */
int clkm_describe_address(uint64_t address, char *_Nonnull buf, size_t size);
/* Uses `area` (a mapping of lkm_shared_size() bytes shared with the supervisor, see
 * lkmshared.h) for the message buffer and the status, instead of private memory. */
void clkm_attach_shared(void *_Nonnull area);
size_t clkm_shared_size(void);
/* Puts back every entry of sysent, cdevsw, bdevsw and execsw whose functions are neither the
 * kernel's nor a loaded module's, and removes file systems whose module is gone; writes one
 * line per repair into buf (newline-separated) and returns the bytes written. */
size_t clkm_audit_tables(char *_Nullable buf, size_t size);
/* The same for sysent alone: before a system call follows it. */
size_t clkm_audit_sysent_only(char *_Nullable buf, size_t size);

/* The phases a guarded call records in the word given to clkm_set_phase_word. */
enum { CLKM_PHASE_MODULE = 2, CLKM_PHASE_AFTER_MODULE = 3 };
/* Makes every guarded call store CLKM_PHASE_MODULE in *word before it enters module code and
 * CLKM_PHASE_AFTER_MODULE when it is back (returned or faulted), so that a process watching
 * *word in shared memory knows whether module code was running when this one died (the
 * sandbox). NULL stops it. */
void clkm_set_phase_word(int32_t *_Nullable word);

/* entry(t, cmd, ver); returns 0 and stores the result, or 1 with *fault filled. */
int clkm_call_entry(uint64_t entry, clkm_table *_Nonnull t, int cmd, int ver,
                    int *_Nonnull result, clkm_fault_t *_Nonnull fault);
/* sysent[n].sy_call(p, args, retval) for the process clkm_proc_enter made current; returns 0
 * and stores the errno and retval[0..1], or 1 with *fault filled (the handler itself faulted:
 * a module's). ENOSYS for an out-of-range n. Pointer arguments are addresses in the kernel
 * process (the request's buffers), reached with copyin and copyout. */
int clkm_call_syscall(int n, const int64_t *_Nonnull args, int nargs, int *_Nonnull error,
                      int64_t *_Nonnull retval, clkm_fault_t *_Nonnull fault);
/* The oops of a module call made deep under the current request (a driver's d_read under
 * read(2)), oldest first: 1 with it taken, 0 when none is left. */
int clkm_take_pending_oops(clkm_fault_t *_Nonnull fault, int *_Nonnull module,
                           char *_Nonnull during, size_t size);
/* void *r(void) (an IFUNC resolver the linker calls); returns 0 and stores the result, or 1
 * with *fault filled. */
int clkm_call_resolver(uint64_t resolver, uint64_t *_Nonnull result, clkm_fault_t *_Nonnull fault);
/* void f(void) (constructors, destructors). */
int clkm_call_void(uint64_t function, clkm_fault_t *_Nonnull fault);

/* ---- Message buffer, console, uprintf ----
 * The printf family modules call (subr_prf.c) formats with the kernel's own engine: a field
 * width or precision is at most CLKM_PRF_MAX_FIELD, one call produces at most
 * CLKM_PRF_MAX_OUTPUT bytes (snprintf returns the length so bounded), at most
 * CLKM_PRF_MAX_FORMAT bytes of a format are read, and module strings are read fault-safely. */
#define CLKM_PRF_MAX_FIELD 4096
#define CLKM_PRF_MAX_OUTPUT 8192
#define CLKM_PRF_MAX_FORMAT 65536
/* Appends text to the message buffer and the console. */
void clkm_log_text(const char *_Nonnull text);
/* Copies the message buffer (oldest first) into buf; returns the length it has. */
size_t clkm_msgbuf_read(char *_Nullable buf, size_t size);
/* As clkm_msgbuf_read, with the stream position of buf[0] (bytes ever written before it). */
size_t clkm_msgbuf_read_from(char *_Nullable buf, size_t size, uint64_t *_Nonnull from);
/* The message buffer's time records overlapping stream positions [from, to) (lkmctl dmesg -T),
 * at most n, sorted by position, as three arrays: each write's position, length and time
 * (CLOCK_REALTIME nanoseconds). Returns how many. */
size_t clkm_msgbuf_stamps(uint64_t from, uint64_t to, uint64_t *_Nonnull at,
                          uint32_t *_Nonnull length, int64_t *_Nonnull ns, size_t n);
/* Counts an oops written by the calling thread; how many it has written. A request's kernel
 * thread compares the count before and after the request: its reply then says that module
 * code faulted, which an errno (EFAULT) cannot. */
void clkm_count_oops(void);
uint64_t clkm_thread_oopses(void);
/* Takes what modules uprintf-ed during the current request (and clears it). */
size_t clkm_uprintf_take(char *_Nullable buf, size_t size);
/* How many bytes clkm_uprintf_take would take now. */
size_t clkm_uprintf_pending(void);
/* Whether console output goes to stdout (1) or nowhere (0). */
void clkm_set_console(int enabled);

/* ---- malloc(9) (kern_malloc.c) ----
 * The kernel's own allocator: mappings of its own, per-module slabs, metadata out of line,
 * redzones checked at free() and at release. One allocation is at most CLKM_MALLOC_MAX bytes
 * (65535 pages, OpenBSD's limit): above it malloc panics, or returns NULL with M_CANFAIL. Up to
 * CLKM_MALLOC_SMALL_MAX bytes an allocation is a slab slot; above, a mapping between guard
 * pages. Allocations are owned by the module current when they were made (-1: the kernel). */
#define CLKM_MALLOC_MAX (65535ul * 4096ul)
#define CLKM_MALLOC_SMALL_MAX 32768

/* Allocations a module has not freed: count and bytes (as requested). */
void clkm_module_allocations(int id, uint64_t *_Nonnull count, uint64_t *_Nonnull bytes);

/* One allocation a module still owned. */
typedef struct clkm_allocation {
  uint64_t address;
  uint64_t size;      /* bytes requested */
  uint64_t caller;    /* the return address of the malloc call, in the module */
  int32_t overwritten; /* 1: its redzone (or the slack after it) no longer holds the pattern */
} clkm_allocation_t;

/* What a module still owned when its memory was released. */
typedef struct clkm_leak_report {
  uint64_t count;       /* allocations */
  uint64_t bytes;       /* bytes requested */
  uint64_t overwritten; /* allocations with a redzone overwritten */
  uint64_t listed;      /* entries of oldest used */
  clkm_allocation_t oldest[8]; /* the oldest allocations, in allocation order */
} clkm_leak_report_t;

/* Frees every allocation module id still owns and gives its memory back to the system (after
 * a failed load, at unload and removal): pointers into it fault afterwards. Fills *report with
 * what it freed. Id -1 (the kernel's own) is never released by the kernel. */
void clkm_module_allocations_release(int id, clkm_leak_report_t *_Nonnull report);

/* ---- pool(9) (subr_pool.c) ---- */
/* A pool a module left behind. */
typedef struct clkm_pool_report {
  char name[32];    /* its wchan */
  uint32_t items_out;
  uint32_t pages;
  uint64_t address; /* of its struct pool */
} clkm_pool_report_t;
/* Destroys every pool module id initialised, or whose struct pool lies in [start, end), with
 * its items, and wakes what sleeps on them; describes the first `room` in reports and returns
 * how many there were. */
size_t clkm_module_pools_release(int id, uint64_t start, uint64_t end,
                                 clkm_pool_report_t *_Nullable reports, size_t room);

/* ---- Credentials (kern_prot.c) ---- */
/* The credentials of the requests the calling thread serves from now on: the client's
 * effective user and group and its supplementary groups (at most 16 are kept). Each request
 * gets a ucred of its own in its struct proc's p_ucred. */
void clkm_set_credentials(unsigned uid, unsigned gid, const unsigned *_Nullable groups,
                          size_t ngroups);

/* Hook for the subsystems of later module types (VFS, DEV, EXEC): lkmdispatch calls it for
 * those types. Returns an OpenBSD errno. */
typedef int (*clkm_type_handler_t)(clkm_table *_Nonnull t, int cmd);
void clkm_set_type_handler(int type, clkm_type_handler_t _Nullable handler);

/* ---- Devices, file systems and execution interpreters (kern_conf.c, vfs_init.c, kern_exec.c) ----
 *
 * Every call into module code below is guarded as the calls above are, and every pointer taken
 * from a module (a switch entry's functions, a vfsconf, its vfsops, a vnode's operations, a
 * vnode a file system returns) is checked before the kernel follows it: functions must be in
 * a module's text or the kernel's own exported functions, structures inside a module's image,
 * vnodes ones getnewvnode handed out for that mount. A bad pointer fails the request with
 * EFAULT and a message in the message buffer. */

/* What a request into module code came to. */
typedef struct clkm_outcome {
  int error;           /* OpenBSD errno, 0 on success */
  int faulted;         /* 1: module code faulted; fault says how */
  int module;          /* id of the module whose code ran last, -1 none */
  clkm_fault_t fault;
} clkm_outcome_t;

/* Puts back what a module left in the device and execution switches and the file system list
 * (after a failed load, or a module removed without unloading). */
void clkm_forget_module(int id);

/* bdevsw (block 1) or cdevsw (block 0): the table's size. */
int clkm_ndevsw(int block);
/* Entry major: 1 free (lkmenodev), 0 in use; -1 out of range. *owner: installing module or -1. */
int clkm_devsw_state(int block, int major, int *_Nonnull owner);

/* ---- Processes (kern_proc.c) ----
 * The kernel keeps a struct proc (and its descriptor table) per client process. */
/* The calling thread serves a request of process pid (made if new): 0, or ENOMEM / EAGAIN. */
int clkm_proc_enter(int pid, unsigned uid, unsigned gid, const char *_Nonnull comm);
/* The request clkm_proc_enter began is over. */
void clkm_proc_leave(void);
/* Process pid has no session left: its descriptors close when its last request ends. */
void clkm_proc_exit(int pid);
/* Every process's descriptors are closed (the kernel stops). */
void clkm_proc_exit_all(void);
int clkm_proc_count(void);
int clkm_open_file_count(void);
int clkm_vnode_count(void);
/* A built-in system call's name (read, open...), or NULL. */
const char *_Nullable clkm_syscall_name(int number);

/* ---- The lkm driver (dev_lkm.c) ----
 * LMLOADOBJ calls load(token, &id) to link and load what the kernel staged for token; LMUNLOAD
 * calls unload(id, name) (name when id is -1); LMSTAT calls stat(id, name, &resolved) to look
 * the module up and run its LKM_E_STAT. Each returns an OpenBSD errno. */
void clkm_set_lkm_hooks(int (*_Nonnull load)(unsigned long, int *_Nullable),
                        int (*_Nonnull unload)(int, const char *_Nullable),
                        int (*_Nonnull stat)(int, const char *_Nullable, int *_Nullable));
/* The calling thread serves a module-interface request (only those may load and unload). */
void clkm_set_device_request(int on);

/* ---- File systems (vfs_init.c, vfs_subr.c) ---- */
/* The file system types modules registered (vfsconf), in order. */
int clkm_vfs_count(void);
/* The index-th type: its name (16 bytes), number, mounts, module; 0, or ENOENT past the end. */
int clkm_vfs_at(int index, char *_Nonnull name, int *_Nonnull typenum,
                unsigned *_Nonnull refcount, int *_Nonnull module);
/* Unmounts every file system but the root, newest first (lkmd stopping). */
void clkm_vfs_unmount_all(void);

/* execsw: the table's size; entry slot's state as for clkm_devsw_state (1 free: es_check NULL). */
int clkm_nexecs(void);
int clkm_execsw_state(int slot, int *_Nonnull owner);
/* Offers the file to each execsw entry; the accepting one's ep_entry runs the program.
 * *status: its exit status. ENOEXEC when no entry accepts. */
void clkm_exec(const char *_Nonnull name, const void *_Nonnull image, size_t size, int argc,
               const char *_Nonnull const *_Nonnull argv, int *_Nonnull status,
               clkm_outcome_t *_Nonnull out);

#ifdef __cplusplus
}
#endif
#endif
