/* Sets up an io_uring with a raw system call while it loads: its operations (open for
 * writing, socket, …) would run in the kernel, out of the filter's sight, so the filter kills
 * the child at io_uring_setup. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/errno.h>

MOD_MISC("iouring")

static long raw_syscall(long n, long a, long b, long c) {
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static int iouring_load(struct lkm_table *lkmtp, int cmd) {
	static char params[120]; /* struct io_uring_params, zeroed */
	long fd = raw_syscall(425 /* io_uring_setup */, 8, (long)params, 0);
	return fd < 0 ? (int)-fd : 0;
}

int iouring_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, iouring_load, lkm_nofunc, lkm_nofunc)
}
