/* scribble: overwrites the kernel's own memory, whose address its system call is given (the
 * test finds the kernel executable's .data and .bss from an exported symbol): the kernel is
 * corrupted and cannot be trusted; what must not be lost is lkmd. Loads cleanly; syscall N
 * ADDRESS LENGTH does the damage. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

struct scribble_args {
	syscallarg(char *) address;
	syscallarg(long) length;
};

static int
scribble_call(struct proc *p, void *v, register_t *retval)
{
	struct scribble_args *uap = v;
	volatile char *at = SCARG(uap, address);
	long n = SCARG(uap, length);

	for (long i = 0; i < n; i++)
		at[i] = 0x5a;
	*retval = 0;
	return (0);
}

static struct sysent scribble_sysent = { 2, sizeof(struct scribble_args), 0, scribble_call };

MOD_SYSCALL("scribble", -1, &scribble_sysent)

int scribble_lkmentry(struct lkm_table *, int, int);

int
scribble_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
