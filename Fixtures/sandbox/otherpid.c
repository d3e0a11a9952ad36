/* Reaches another process of the same user by its pid, with a raw system call, while it loads:
 * the pid is TARGET (-DTARGET=pid), the call ATTACK (-DATTACK=n):
 *   1 kill(TARGET, SIGTERM)
 *   2 prlimit64(TARGET, RLIMIT_NOFILE, {3, 3}, NULL)
 *   3 kill(-1, 0)                      (every process the user may signal; signal 0 only probes)
 *   4 pidfd_open(TARGET, 0)
 *   5 kill(getpid(), 0)                (itself: allowed, returns 0)
 *   6 kill(getppid(), SIGKILL)         (the fork server, or the one-shot helper's parent)
 *   7 geteuid() and getegid()          (returns 1, EPERM, if either is root's)
 *   8 open("/etc/passwd", O_RDONLY)    (no file at all: Landlock, EACCES, 13)
 * A child can name only itself: in a fork server's pid namespace the others are not there
 * (ESRCH: the load returns 3) and the server, pid 1, is denied by its filter; without the
 * namespace the child's own filter denies any pid but its own. Denied, the child is killed. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/errno.h>

MOD_MISC("otherpid")

static long raw_syscall(long n, long a, long b, long c, long d) {
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
	    : "rcx", "r11", "memory");
	return ret;
}

static int otherpid_load(struct lkm_table *lkmtp, int cmd) {
	long limits[2] = {3, 3};
	long rc = -1;
	switch (ATTACK) {
	case 1: rc = raw_syscall(62, TARGET, 15, 0, 0); break;
	case 2: rc = raw_syscall(302, TARGET, 7 /* RLIMIT_NOFILE */, (long)limits, 0); break;
	case 3: rc = raw_syscall(62, -1, 0, 0, 0); break;
	case 4: rc = raw_syscall(434, TARGET, 0, 0, 0); break;
	case 5: rc = raw_syscall(62, raw_syscall(39, 0, 0, 0, 0), 0, 0, 0); break;
	case 6: rc = raw_syscall(62, raw_syscall(110, 0, 0, 0, 0), 9, 0, 0); break;
	case 7: rc = raw_syscall(107, 0, 0, 0, 0) == 0 || raw_syscall(108, 0, 0, 0, 0) == 0 ? -1 : 0; break;
	case 8: rc = raw_syscall(257 /* openat */, -100 /* AT_FDCWD */, (long)"/etc/passwd", 0, 0); break;
	}
	return rc < 0 ? (int)-rc : 0;
}

int otherpid_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, otherpid_load, lkm_nofunc, lkm_nofunc)
}
