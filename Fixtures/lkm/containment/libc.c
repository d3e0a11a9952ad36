/* libc: with lkmd --host-symbols a module may call the C library: the attacks a raw system
 * call cannot make then (the filter on the instruction pointer lets the library's own system
 * calls through). Build with -DLIBC_EXIT, -DLIBC_ABORT, -DLIBC_KILL, -DLIBC_USR1, -DLIBC_FORK
 * -DLIBC_SIGBLOCK, -DLIBC_PRLIMIT (the supervisor's open-file limit lowered to 3) or
 * -DLIBC_IOURING (an io_uring, whose operations no filter sees). */
#include "attack.h"
extern void exit(int);
extern void abort(void);
extern int kill(int, int);
extern int getpid(void);
extern int fork(void);
extern int getppid(void);
extern long syscall(long, ...);
extern int prlimit(int, int, const unsigned long *, unsigned long *);
extern int pause(void);
extern int sigprocmask(int, const unsigned long *, unsigned long *);
static int attack(void)
{
#if defined(LIBC_EXIT)
	exit(7);
#elif defined(LIBC_ABORT)
	abort();
#elif defined(LIBC_KILL)
	kill(getpid(), 9);
#elif defined(LIBC_USR1)
	kill(getpid(), 10);
#elif defined(LIBC_FORK)
	int pid = fork();
	if (pid == 0)
		for (;;)
			pause();
	if (pid < 0)
		return 1; /* EPERM: the kernel process may not fork */
#elif defined(LIBC_PRLIMIT)
	unsigned long three[2] = {3, 3};
	if (prlimit(getppid(), 7 /* RLIMIT_NOFILE */, three, 0) != 0)
		return 1; /* EPERM: the kernel process names only itself */
#elif defined(LIBC_IOURING)
	static char params[120]; /* struct io_uring_params, zeroed */
	if (syscall(425 /* io_uring_setup */, 8, params) < 0)
		return 1; /* EPERM: denied to the kernel process */
#elif defined(LIBC_SIGBLOCK)
	unsigned long all[16];
	for (int i = 0; i < 16; i++)
		all[i] = ~0UL;
	sigprocmask(0 /* SIG_BLOCK */, all, 0);
	for (;;)
		pause();
#endif
	return 0;
}
ATTACK_MODULE(libc)
