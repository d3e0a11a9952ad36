/* lkm kernel headers: <sys/systm.h>: struct sysent (OpenBSD's field order), the kernel printf
 * family, memory and copy functions, the placeholder functions, and (through
 * <lib/libkern/libkern.h>, as on OpenBSD) the string functions. Kernel-only, as OpenBSD's. */
#ifndef _SYS_SYSTM_H_
#define _SYS_SYSTM_H_
#pragma GCC system_header

#include "types.h"
#include "errno.h"
#include "cdefs.h"
#include "syslog.h"
#include "../machine/intr.h"

struct proc;

typedef int sy_call_t(struct proc *, void *, register_t *);

/* One system call table entry: 16 bytes, as on OpenBSD/amd64. */
struct sysent {
	short sy_narg;     /* number of arguments */
	short sy_argsize;  /* total size of arguments */
	int sy_flags;
	sy_call_t *sy_call; /* implementing function */
};

#define SY_NOLOCK 0x01

/* System call arguments are register_t slots; syscallarg(type) declares one. */
#define syscallarg(x) union { register_t pad; x datum; }
#define SCARG(p, k) ((p)->k.datum)

__BEGIN_DECLS
extern struct sysent sysent[];
extern int nsysent;
extern int securelevel;
extern char version[];
extern char hostname[];
extern int nblkdev;  /* number of entries in bdevsw */
extern int nchrdev;  /* number of entries in cdevsw */

/* Placeholders for table entries: nosys and sys_lkmnosys return ENOSYS (sys_lkmnosys marks a
 * system call slot free for modules), enodev and lkmenodev ENODEV (lkmenodev marks a free
 * major), enxio ENXIO, eopnotsupp EOPNOTSUPP; nullop succeeds. seltrue and selfalse are d_poll
 * entries (always ready, never ready); seltrue_kqfilter returns EOPNOTSUPP (no kqueue). */
int nullop(void *);
int enodev(void);
int enxio(void);
int eopnotsupp(void *);
int lkmenodev(void);
struct knote;
int seltrue(dev_t, int, struct proc *);
int selfalse(dev_t, int, struct proc *);
int seltrue_kqfilter(dev_t, struct knote *);
int nosys(struct proc *, void *, register_t *);
int sys_lkmnosys(struct proc *, void *, register_t *);

/* The kernel's printf (not C's): conversions d i o u x X c s p % and OpenBSD's %b (n is
 * ignored), flags - + space # 0, width and precision (* too), length modifiers hh h l ll q j z t.
 * A width or precision is at most 4096, one call produces at most 8192 bytes (snprintf returns
 * the length so bounded), and a NULL or unreadable %s prints "(null)" or "(bad address)". */
int printf(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
int vprintf(const char *, __builtin_va_list) __attribute__((__format__(__printf__, 1, 0)));
void uprintf(const char *, ...) __attribute__((__format__(__printf__, 1, 2)));
int snprintf(char *, size_t, const char *, ...) __attribute__((__format__(__printf__, 3, 4)));
int vsnprintf(char *, size_t, const char *, __builtin_va_list)
    __attribute__((__format__(__printf__, 3, 0)));
void panic(const char *, ...) __attribute__((__noreturn__, __format__(__printf__, 1, 2)));

/* Not OpenBSD's: compilers turn printf("text\n") into puts("text") and printf("%c", c) into
 * putchar(c) (a module compiled without -ffreestanding), so the kernel has them too. */
int puts(const char *);
int putchar(int);

void *memcpy(void *, const void *, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);
void bcopy(const void *, void *, size_t);
void bzero(void *, size_t);

/* tsleep(9): sleeps on ident (with the kernel lock let go) until wakeup(ident), for at most
 * timo ticks (0: no limit; then EWOULDBLOCK), or with PCATCH in priority until the request's
 * client goes away (EINTR). Returns 0 when woken. */
int tsleep(const volatile void *, int, const char *, int);
void wakeup(const volatile void *);
void wakeup_one(const volatile void *);

/* copy(9): between the kernel and a process's memory (here both the kernel's address space).
 * A bad address is EFAULT, never a crash. copyinstr and copyoutstr copy a string with its NUL
 * (ENAMETOOLONG when len bytes hold no NUL; *done, if not NULL, the bytes copied, the NUL
 * included); kcopy copies len bytes between kernel addresses, EFAULT on a fault. */
int copyin(const void *, void *, size_t);
int copyout(const void *, void *, size_t);
int copyinstr(const void *, void *, size_t, size_t *);
int copyoutstr(const void *, void *, size_t, size_t *);
int kcopy(const void *, void *, size_t);

/* Random numbers (also in <dev/rndvar.h>, where OpenBSD 5.2 declares them). */
void arc4random_buf(void *, size_t);
u_int32_t arc4random(void);
u_int32_t arc4random_uniform(u_int32_t);

struct uio;
int uiomove(void *, size_t, struct uio *);
__END_DECLS

#include "../lib/libkern/libkern.h"

#endif /* !_SYS_SYSTM_H_ */
