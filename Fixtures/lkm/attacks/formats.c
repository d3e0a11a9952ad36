/* formats: a system call (automatic slot) that drives the kernel's printf the way its argument
 * picks, and reports through uprintf:
 *   1  printf("%*d", 1000000000, 1) (issue 9: 6.5 s and 1 GB with glibc's vsnprintf): its
 *      return value and how long it took, in microseconds
 *   2  a precision of 1000000000 (%.*d) through snprintf and printf: return values, time
 *   3  OpenBSD's %b examples and a few more
 *   4  %s of NULL, of wild pointers, with precision and width
 *   5  the other conversions, flags and length modifiers
 *   6  snprintf's return value: truncation, size 0, a field over the cap
 *   7  one call producing more than the output cap (three 4096-wide fields)
 *   8  %n (ignored) and formats that are NULL or unreadable */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/time.h>
#include <sys/lkm.h>

struct formats_args {
	syscallarg(int) how;
};

static long
elapsed_us(struct timespec *t0)
{
	struct timespec t1;

	nanotime(&t1);
	return ((t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000);
}

static int
formats_call(struct proc *p, void *v, register_t *retval)
{
	struct formats_args *uap = v;
	static char buf[16384];
	char small[8];
	struct timespec t0;
	const char *volatile nothing = NULL;
	const char *volatile wild = (const char *)16;
	const char *volatile unmapped = (const char *)0xdead0000UL;
	const char *volatile hello = "hello";
	int n, m, x;

	switch (SCARG(uap, how)) {
	case 1:
		nanotime(&t0);
		n = printf("%*d\n", 1000000000, 1);
		uprintf("printf returned %d in %ld us\n", n, elapsed_us(&t0));
		break;
	case 2:
		nanotime(&t0);
		n = snprintf(buf, sizeof buf, "%.*d", 1000000000, 7);
		m = printf("%.*d\n", 1000000000, 7);
		uprintf("snprintf returned %d (%d bytes stored, ending %s), printf %d, in %ld us\n",
		    n, (int)strlen(buf), buf + n - 3, m, elapsed_us(&t0));
		break;
	case 3:
		uprintf("reg=%b\n", 3, "\10\2BITTWO\1BITONE\n");
		uprintf("reg=%b\n", 3, "\10\201BITTWO\200BITONE\n");
		uprintf("[%b]\n", 0x12, "\20\5FIVE\2TWO\1ONE");
		uprintf("[%b]\n", 0, "\20\1ONE");
		uprintf("[%b]\n", 10, "\12\4EIGHT\2TWO");
		uprintf("[%llb]\n", 1ULL << 40, "\20\250FORTY\1ONE");
		uprintf("[%b]\n", 1, nothing);
		uprintf("[%b]\n", 1, unmapped);
		break;
	case 4:
		uprintf("[%s] [%s] [%s] [%.3s] [%10s] [%-10s] [%.2s]\n", nothing, wild, unmapped,
		    hello, hello, hello, nothing);
		break;
	case 5:
		uprintf("[%d] [%i] [%u] [%x] [%X] [%o] [%c] [%%] [%p] [%p]\n", -42, 42, 3000000000U,
		    0xbeef, 0xbeef, 8, 'k', (void *)0x1234, (void *)0);
		uprintf("[%5d] [%-5d] [%05d] [%+d] [% d] [%+d] [%.3d] [%8.3d] [%-8.3d] [%08.3d]\n",
		    42, 42, -42, 42, 42, -42, 7, 7, 7, 7);
		uprintf("[%#x] [%#X] [%#o] [%#x] [%#o] [%.0d] [%.0x] [%#.0o]\n", 255, 255, 8, 0, 0,
		    0, 0, 0);
		uprintf("[%hhd] [%hhu] [%hd] [%hu] [%ld] [%lu] [%lld] [%qd] [%jd] [%zu] [%zd] [%td]\n",
		    300, 300, 70000, 70000, -9000000000L, 18000000000UL, -9000000000LL,
		    9000000000LL, (long long)-1, (unsigned long)123456789012, (long)-5, (long)-6);
		uprintf("[%lx] [%llX] [%lo] [%-6c] [%3c] [%*d] [%-*d] [%.*s] [%y]\n",
		    0xfedcba9876543210UL, 0xABCULL, 01234567UL, 'a', 'b', 6, 3, -6, 3, 2, "xyz");
		break;
	case 6:
		n = snprintf(small, sizeof small, "%s, world", hello);
		uprintf("%d [%s]\n", n, small);
		n = snprintf(NULL, 0, "%d", 123456);
		uprintf("%d\n", n);
		n = snprintf(buf, sizeof buf, "%*s|", 100000, "");
		uprintf("%d %d [%c]\n", n, (int)strlen(buf), buf[n - 1]);
		break;
	case 7:
		n = snprintf(buf, sizeof buf, "%4096d%4096d%4096d", 1, 2, 3);
		m = printf("%4096d%4096d%4096d\n", 4, 5, 6);
		uprintf("%d %d %d [%c]\n", n, (int)strlen(buf), m, buf[n - 1]);
		break;
	case 8:
		x = 42;
		n = snprintf(buf, sizeof buf, "ab%ncd", &x);
		uprintf("%d [%s] %d\n", n, buf, x);
		n = snprintf(buf, sizeof buf, nothing);
		uprintf("%d [%s]\n", n, buf);
		n = snprintf(buf, sizeof buf, unmapped);
		uprintf("%d [%s]\n", n, buf);
		break;
	default:
		return (EINVAL);
	}
	*retval = 0;
	return (0);
}

static struct sysent formats_sysent = {
	1, sizeof(struct formats_args), 0, formats_call
};

MOD_SYSCALL("formats", -1, &formats_sysent)

int formats_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
formats_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
