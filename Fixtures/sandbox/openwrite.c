/* Makes a system call the sandbox forbids, with a raw syscall instruction (modules reach no C
 * library), while it loads: the filter kills the child. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/errno.h>

MOD_MISC("openwrite")

static long raw_syscall(long n, long a, long b, long c) {
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static int openwrite_load(struct lkm_table *lkmtp, int cmd) {
	static char path[] = "/tmp/lkm-sandbox-openwrite";
	return (int)raw_syscall(257, -100, (long)path, 0101); /* openat(AT_FDCWD, O_WRONLY|O_CREAT) */
}

int openwrite_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, openwrite_load, lkm_nofunc, lkm_nofunc)
}
