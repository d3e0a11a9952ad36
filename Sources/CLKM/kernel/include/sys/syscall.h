/* lkm kernel headers: <sys/syscall.h>. This kernel's system call table is lkm's own: the slots
 * 210-219 are sys_lkmnosys placeholders for loadable system calls, as on OpenBSD. */
#ifndef _SYS_SYSCALL_H_
#define _SYS_SYSCALL_H_
#pragma GCC system_header

#define SYS_syscall 0
#define SYS_exit 1
#define SYS_getpid 20
#define SYS_getuid 24
#define SYS_MAXSYSCALL 311

#endif /* !_SYS_SYSCALL_H_ */
