/*
 * kapi: a system call (automatic slot) that exercises the kernel(9) interfaces drivers use
 * besides malloc and printf, printing what each returned through uprintf, for the tests:
 *
 *	kapi(op, arg, arg2)
 *	  op 1		copy(9): copyoutstr and kcopy, good and bad addresses
 *	  op 2, N, K	arc4random_uniform(N) K times: the smallest and largest value and how
 *			many of each when N <= 16; arc4random_buf and arc4random
 *	  op 3		arc4random_buf into a bad address (a fault: EFAULT, an oops)
 *	  op 4		credentials: the process's ucred, suser, crget/crdup/crfree
 *	  op 5, KIND	crfree misuse: KIND 0 a pointer that is no ucred, 1 a ucred freed twice
 *	  op 6		the clocks: micro/nanotime, the get* forms, uptime, time_second, time_uptime
 *	  op 7		libkern: strncpy, strnlen, memchr, bcmp, ffs, strncasecmp, timingsafe_bcmp
 *
 *	modload kapi.o
 *	lkmctl syscall 210 4
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/time.h>
#include <sys/proc.h>
#include <sys/ucred.h>
#include <sys/lkm.h>
#include <dev/rndvar.h>

struct kapi_args {
	syscallarg(long) op;
	syscallarg(long) arg;
	syscallarg(long) arg2;
};

static int kapi_call(struct proc *p, void *v, register_t *retval);

static struct sysent kapi_sysent = {
	3, sizeof(struct kapi_args), 0, kapi_call
};

MOD_SYSCALL("kapi", -1, &kapi_sysent)

static void
copies(void)
{
	char buf[16], src[8] = "kernel", dst[8];
	size_t done;
	int error;

	done = 99;
	error = copyoutstr("hello", buf, sizeof buf, &done);
	uprintf("copyoutstr fits: %d, done %d, '%s'\n", error, (int)done, buf);
	done = 99;
	error = copyoutstr("hello", buf, 3, &done);
	uprintf("copyoutstr short: %d, done %d, '%.3s'\n", error, (int)done, buf);
	done = 99;
	error = copyoutstr("hello", (void *)8, sizeof buf, &done);
	uprintf("copyoutstr to a bad address: %d, done %d\n", error, (int)done);
	error = copyoutstr((void *)8, buf, sizeof buf, NULL);
	uprintf("copyoutstr from a bad address: %d\n", error);
	error = kcopy(src, dst, sizeof src);
	uprintf("kcopy: %d, '%s'\n", error, dst);
	error = kcopy((void *)8, dst, sizeof dst);
	uprintf("kcopy from a bad address: %d\n", error);
	error = kcopy(src, (void *)8, sizeof src);
	uprintf("kcopy to a bad address: %d\n", error);
}

static void
randoms(long n, long k)
{
	unsigned counts[16];
	unsigned lo = 0xffffffffU, hi = 0, v;
	unsigned char a[32], b[32];
	long i;
	int zero = 1;

	memset(counts, 0, sizeof counts);
	for (i = 0; i < k; i++) {
		v = arc4random_uniform((u_int32_t)n);
		if (v < lo)
			lo = v;
		if (v > hi)
			hi = v;
		if (n <= 16 && v < 16)
			counts[v]++;
	}
	uprintf("uniform %ld: min %u max %u", n, lo, hi);
	if (n <= 16) {
		uprintf(" counts");
		for (i = 0; i < n; i++)
			uprintf(" %u", counts[i]);
	}
	uprintf("\n");
	arc4random_buf(a, sizeof a);
	arc4random_buf(b, sizeof b);
	for (i = 0; i < (long)sizeof a; i++)
		if (a[i] != 0)
			zero = 0;
	uprintf("buf: %s, %s; uniform(0) %u, uniform(1) %u\n", zero ? "zero" : "not zero",
	    memcmp(a, b, sizeof a) == 0 ? "repeated" : "different", arc4random_uniform(0),
	    arc4random_uniform(1));
	v = arc4random();
	uprintf("arc4random: %s\n", v != arc4random() ? "changes" : "repeats");
}

static int
credentials(struct proc *p)
{
	struct ucred *cr = p->p_ucred, *copy;
	int i;

	uprintf("p_uid %u, cr_uid %u, cr_gid %u, cr_ref %u, groups", p->p_uid, cr->cr_uid,
	    cr->cr_gid, cr->cr_ref);
	for (i = 0; i < cr->cr_ngroups; i++)
		uprintf(" %u", cr->cr_groups[i]);
	uprintf("\nsuser %d, suser_ucred %d\n", suser(p, 0), suser_ucred(cr));
	crhold(cr);
	copy = crdup(cr);
	uprintf("crhold: cr_ref %u; crdup: cr_uid %u, cr_ref %u, %s\n", cr->cr_ref,
	    copy->cr_uid, copy->cr_ref, copy != cr ? "a new ucred" : "the same");
	crfree(copy);
	crfree(cr);
	copy = crget();
	copy->cr_uid = 0;
	uprintf("crget: cr_ref %u, suser_ucred of a root ucred %d\n", copy->cr_ref,
	    suser_ucred(copy));
	crfree(copy);
	return (cr->cr_uid == p->p_uid ? 0 : EINVAL);
}

static void
crfree_misuse(long kind)
{
	struct ucred fake, *cr;

	if (kind == 0) {
		memset(&fake, 0, sizeof fake);
		fake.cr_ref = 1;
		crfree(&fake);
	} else {
		cr = crget();
		crfree(cr);
		crfree(cr);
	}
}

static void
clocks(void)
{
	struct timeval tv, gtv, utv, gutv;
	struct timespec ts, gts, uts, guts, later;

	getmicrotime(&gtv);
	microtime(&tv);
	getnanotime(&gts);
	nanotime(&ts);
	getmicrouptime(&gutv);
	microuptime(&utv);
	getnanouptime(&guts);
	nanouptime(&uts);
	nanouptime(&later);
	uprintf("microtime %ld.%06ld getmicrotime %ld.%06ld\n", (long)tv.tv_sec, tv.tv_usec,
	    (long)gtv.tv_sec, gtv.tv_usec);
	uprintf("nanotime %ld.%09ld getnanotime %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec,
	    (long)gts.tv_sec, gts.tv_nsec);
	uprintf("microuptime %ld.%06ld getmicrouptime %ld.%06ld\n", (long)utv.tv_sec,
	    utv.tv_usec, (long)gutv.tv_sec, gutv.tv_usec);
	uprintf("nanouptime %ld.%09ld getnanouptime %ld.%09ld later %ld.%09ld\n",
	    (long)uts.tv_sec, uts.tv_nsec, (long)guts.tv_sec, guts.tv_nsec, (long)later.tv_sec,
	    later.tv_nsec);
	uprintf("time_second %ld time_uptime %ld\n", (long)time_second, (long)time_uptime);
}

/* The inputs go through volatiles, so that the compiler cannot compute the results itself
 * (it knows these functions) and the kernel's are called. */
static void
libkern(void)
{
	char buf[8], s[] = "abcabc";
	const char *volatile hello = "hello", *volatile digits = "0123456789";
	const char *volatile abc = "abc", *volatile abd = "abd", *volatile ABD = "ABD";
	const char *volatile mixed1 = "Hello", *volatile mixed2 = "hELLO";
	const char *volatile secret = "secret", *volatile secreT = "secreT";
	volatile int zero = 0, one = 1, bit7 = 0x80, bit31 = (int)0x80000000;
	int (*volatile bcmp_fn)(const void *, const void *, size_t) = bcmp;
	volatile size_t three = 3, four = 4, six = 6, ten = 10, two = 2, five = 5, eight = 8;

	memset(buf, 'x', sizeof buf);
	strncpy(buf, abc + 1, eight);
	uprintf("strncpy pads: %d %d %d; ", buf[0] == 'b', buf[2] == 0, buf[7] == 0);
	memset(buf, 'x', sizeof buf);
	strncpy(buf, digits, four);
	uprintf("truncates: %.4s %d; ", buf, buf[4] == 'x');
	uprintf("strnlen %d %d; ", (int)strnlen(hello, ten), (int)strnlen(hello, three));
	uprintf("memchr %d %d; ", (int)((char *)memchr(s, 'c', six) - s),
	    memchr(s, 'z', six) == NULL);
	uprintf("bcmp %d %d; ", bcmp_fn(abc, abc, three) == 0, bcmp_fn(abc, abd, three) != 0);
	uprintf("ffs %d %d %d %d\n", ffs(zero), ffs(one), ffs(bit7), ffs(bit31));
	uprintf("strncasecmp %d %d %d; ", strncasecmp(mixed1, mixed2, five) == 0,
	    strncasecmp(abc, abd, two) == 0, strncasecmp(abc, ABD, three) < 0);
	uprintf("timingsafe_bcmp %d %d %d\n", timingsafe_bcmp(secret, secret, six),
	    timingsafe_bcmp(secret, secreT, six), timingsafe_bcmp(abc, abd, (size_t)zero));
}

static int
kapi_call(struct proc *p, void *v, register_t *retval)
{
	struct kapi_args *uap = v;

	switch (SCARG(uap, op)) {
	case 1:
		copies();
		return (0);
	case 2:
		randoms(SCARG(uap, arg), SCARG(uap, arg2));
		return (0);
	case 3:
		arc4random_buf((void *)16, 64);
		return (0);
	case 4:
		return (credentials(p));
	case 5:
		crfree_misuse(SCARG(uap, arg));
		return (0);
	case 6:
		clocks();
		return (0);
	case 7:
		libkern();
		return (0);
	}
	return (EINVAL);
}

int kapi_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
kapi_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
