/* What the kernel's files written against the module headers see: the VFS, descriptors,
 * processes and the system calls (kern_proc.c to init_sysent.c in clkm_internal.h's order).
 *
 * Those files are kernel code as OpenBSD's is: they include this header only, never the C
 * library's, and use the kernel's structures as modules do (struct vnode, struct proc,
 * struct uio from Sources/CLKM/kernel/include, compiled with _KERNEL). The kernel's functions
 * they call by their OpenBSD names (malloc, printf, uiomove, tsleep...) are the kernel's own,
 * whose symbols carry a clkm_ prefix (the C library has a malloc of its own): the renames
 * below come before the headers, so the headers declare the kernel's. The kernel's variables
 * (sysent, cdevsw, hz...) live in arenas the rest of the kernel maps; they are reached
 * through clkm_kvar() after the headers (sysent, cdevsw and bdevsw, which are also structure
 * tags, as kern_sysent, kern_cdevsw and kern_bdevsw).
 *
 * What they need of the kernel's other files is declared at the end with the types both sides
 * agree on (int, long, pointers), and what the rest of the kernel and Swift call of them is in
 * clkm_internal.h and clkm.h likewise. */
#ifndef KERN_LOCAL_H
#define KERN_LOCAL_H

#define _KERNEL 1

/* The kernel's functions, by their names for modules. */
#define malloc clkm_malloc
#define free clkm_free
#define printf clkm_printf
#define vprintf clkm_vprintf
#define uprintf clkm_uprintf
#define log clkm_log
#define panic clkm_panic
#define puts clkm_puts
#define putchar clkm_putchar
#define snprintf clkm_snprintf
#define vsnprintf clkm_vsnprintf
#define memcpy clkm_memcpy
#define memmove clkm_memmove
#define memset clkm_memset
#define memcmp clkm_memcmp
#define bcopy clkm_bcopy
#define bzero clkm_bzero
#define strlen clkm_strlen
#define strcmp clkm_strcmp
#define strncmp clkm_strncmp
#define strchr clkm_strchr
#define strrchr clkm_strrchr
#define strlcpy clkm_strlcpy
#define strlcat clkm_strlcat
#define copyin clkm_copyin
#define copyout clkm_copyout
#define copyinstr clkm_copyinstr
#define uiomove clkm_uiomove
#define biodone clkm_biodone
#define tsleep clkm_tsleep
#define wakeup clkm_wakeup
#define wakeup_one clkm_wakeup_one
#define microtime clkm_microtime
#define nanotime clkm_nanotime
#define lkmenodev clkm_lkmenodev
#define enodev clkm_enodev
#define nullop clkm_nullop
#define eopnotsupp clkm_eopnotsupp
#define nosys clkm_nosys
#define sys_lkmnosys clkm_sys_lkmnosys
#define lkmexists clkm_lkmexists
#define lkm_list clkm_lkm_list
#define msgbuf_copy clkm_msgbuf_copy

#include "kernel/include/sys/param.h"
#include "kernel/include/sys/systm.h"
#include "kernel/include/sys/kernel.h"
#include "kernel/include/sys/proc.h"
#include "kernel/include/sys/malloc.h"
#include "kernel/include/sys/syslog.h"
#include "kernel/include/sys/time.h"
#include "kernel/include/sys/uio.h"
#include "kernel/include/sys/buf.h"
#include "kernel/include/sys/conf.h"
#include "kernel/include/sys/fcntl.h"
#include "kernel/include/sys/file.h"
#include "kernel/include/sys/filedesc.h"
#include "kernel/include/sys/stat.h"
#include "kernel/include/sys/dirent.h"
#include "kernel/include/sys/mount.h"
#include "kernel/include/sys/vnode.h"
#include "kernel/include/sys/namei.h"
#include "kernel/include/sys/specdev.h"
#include "kernel/include/sys/poll.h"
#include "kernel/include/sys/select.h"
#include "kernel/include/sys/ioctl.h"
#include "kernel/include/sys/syscall.h"
#include "kernel/include/sys/syscallargs.h"
#include "kernel/include/sys/sysctl.h"
#include "kernel/include/sys/lkm.h"
#include "kernel/include/sys/queue.h"
#include "kernel/include/sys/stdarg.h"

/* ---- The kernel's variables ---- */
enum {
  CLKM_KV_SYSENT, CLKM_KV_NSYSENT, CLKM_KV_HZ, CLKM_KV_TIME_SECOND, CLKM_KV_SECURELEVEL,
  CLKM_KV_HOSTNAME, CLKM_KV_VERSION, CLKM_KV_TICKS, CLKM_KV_CDEVSW, CLKM_KV_BDEVSW,
  CLKM_KV_NCHRDEV, CLKM_KV_NBLKDEV
};
/* The address of a kernel variable (kern_data.c). */
void *clkm_kvar(int which);
#define kern_sysent ((struct sysent *)clkm_kvar(CLKM_KV_SYSENT))
#define hz (*(int *)clkm_kvar(CLKM_KV_HZ))
#define time_second (*(time_t *)clkm_kvar(CLKM_KV_TIME_SECOND))
#define securelevel (*(int *)clkm_kvar(CLKM_KV_SECURELEVEL))
#define hostname ((char *)clkm_kvar(CLKM_KV_HOSTNAME))
#define version ((char *)clkm_kvar(CLKM_KV_VERSION))
#define ticks (*(volatile int *)clkm_kvar(CLKM_KV_TICKS))
#define kern_cdevsw ((struct cdevsw *)clkm_kvar(CLKM_KV_CDEVSW))
#define kern_bdevsw ((struct bdevsw *)clkm_kvar(CLKM_KV_BDEVSW))
#define nchrdev (*(int *)clkm_kvar(CLKM_KV_NCHRDEV))
#define nblkdev (*(int *)clkm_kvar(CLKM_KV_NBLKDEV))

/* ---- What these files need of the rest of the kernel ---- */

/* The exported symbol table's entries (clkm.h's clkm_export_t, the same layout): each file lists
 * what it gives modules in its clkm_*_exports, which kern_main.c calls. */
typedef struct clkm_export {
  const char *name;
  void *address;
  int is_function;
} clkm_export_t;
size_t clkm_copy_exports(clkm_export_t *table, size_t room, const clkm_export_t *list, size_t n);
#define CLKM_FUNC(name, fn) {name, (void *)(fn), 1}
#define CLKM_DATA(name, var) {name, (void *)(var), 0}
/* The body of a clkm_*_exports function: the list, copied into the table. */
#define CLKM_EXPORTS(table, room, ...)         \
  const clkm_export_t list_[] = {__VA_ARGS__}; \
  return clkm_copy_exports(table, room, list_, sizeof list_ / sizeof list_[0])

/* kern_trap.c */
extern __thread int clkm_current_module __attribute__((tls_model("initial-exec")));
extern __thread volatile int clkm_critical __attribute__((tls_model("initial-exec")));
int clkm_module_at(unsigned long address);
int clkm_in_module_text(unsigned long address);
int clkm_is_live_code(unsigned long address);
int clkm_in_module_image(const void *p, size_t length);
void clkm_set_current_module(int id);
void clkm_set_activity(const char *what);
__dead void clkm_guard_panic(const char *message, void *pc);
int clkm_guard_active(void);
/* thunk(context) on behalf of module `module` (its code is what the thunk calls), guarded
 * (nested calls too): 0 when it returned; EFAULT when the module faulted, panicked or ran
 * into the watchdog, after recording an oops "during" what the thread's activity says (the
 * request reports it). */
int clkm_module_call(int module, int (*thunk)(void *), void *context);
/* subr_log.c */
void clkm_logf(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));
/* kern_subr.c */
struct proc *clkm_current_proc(void);
void clkm_set_current_proc(struct proc *p);
/* kern_lkm.c */
struct lkm_table *clkm_table_containing(const void *p);
void clkm_audit_note(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));
/* Whether a function pointer taken from a table may be called: module text, or one of the
 * kernel's functions for modules (kern_trap.c). */
int clkm_callable(const void *function);
/* kern_conf.c */
int clkm_placeholder(const void *function);
int clkm_devsw_state(int block, int major, int *owner);
/* kern_synch.c */
int clkm_request_cancelled(void);
void clkm_kernel_lock(void);
void clkm_kernel_unlock(void);
int clkm_kernel_lock_held(void);
/* kern_main.c: whether fn is a function the kernel exports to modules. */
int clkm_kernel_export_function(const void *fn);
int clkm_devsw_kernel_driver(int block, int major, const void *fn);
/* kern_proc.c: whether the thread serves the supervisor's device request (modload...). */
int clkm_device_request(void);

/* The module that code at fn belongs to (-1: the kernel's), and whether the kernel may call it:
 * a loaded module's text, or a function the kernel exports. */
static inline int clkm_code_owner(const void *fn, int *callable) {
  unsigned long a = (unsigned long)fn;
  int owner = clkm_in_module_text(a) ? clkm_module_at(a) : -1;
  *callable = fn != NULL && (owner >= 0 || clkm_kernel_export_function(fn));
  return owner;
}

#endif /* KERN_LOCAL_H */
