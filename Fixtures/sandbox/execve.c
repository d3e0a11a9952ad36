/* Makes a system call the sandbox forbids, with a raw syscall instruction (modules reach no C
 * library), while it loads: the filter kills the child. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/errno.h>

MOD_MISC("execve")

static long raw_syscall(long n, long a, long b, long c) {
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static int execve_load(struct lkm_table *lkmtp, int cmd) {
	static char path[] = "/bin/sh";
	static char *argv[] = {path, 0};
	return (int)raw_syscall(59, (long)path, (long)argv, 0); /* execve */
}

int execve_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, execve_load, lkm_nofunc, lkm_nofunc)
}
