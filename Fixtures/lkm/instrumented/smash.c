/* smash: a system call that overruns a stack buffer by N bytes (compile with
 * -fstack-protector-all, and with -mstack-protector-guard=global for __stack_chk_guard).
 * N up to 0 is harmless; past the buffer the canary is overwritten and __stack_chk_fail
 * panics: an oops naming smash_fill. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

struct smash_args {
	syscallarg(long) extra;
};

static __attribute__((noinline)) int smash_fill(long extra)
{
	volatile char buffer[16];
	for (long i = 0; i < 16 + extra; i++)
		buffer[i] = 'A';
	return buffer[0];
}

static int smash_call(struct proc *p, void *v, register_t *retval)
{
	struct smash_args *uap = v;
	*retval = smash_fill(SCARG(uap, extra));
	return 0;
}

static struct sysent smash_sysent = { 1, sizeof(struct smash_args), 0, smash_call };

MOD_SYSCALL("smash", -1, &smash_sysent)

int smash_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);
int smash_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
