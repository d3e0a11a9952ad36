/*
 * shout: a read(2) wrapper. The module replaces sysent[SYS_read], keeps the entry it replaced
 * and calls it, then upper-cases the letters the process gets: every client that reads a file
 * or a device through the kernel (lkmctl cat, read) sees capitals while it is loaded.
 *
 *	modload -e shout_lkmentry shout.o
 *	lkmctl cat /kern/version
 *	modunload -n shout
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/syscall.h>
#include <sys/syscallargs.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

static struct sysent old_read;
static u_long shouted;

static int
shout_read(struct proc *p, void *v, register_t *retval)
{
	struct sys_read_args *uap = v;
	char *buf;
	int error, i, n;

	if ((error = old_read.sy_call(p, v, retval)) != 0 || *retval <= 0)
		return (error);
	n = *retval;
	buf = malloc(n, M_TEMP, M_WAITOK);
	if ((error = copyin(SCARG(uap, buf), buf, n)) == 0) {
		for (i = 0; i < n; i++)
			if (buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] -= 'a' - 'A';
		error = copyout(buf, SCARG(uap, buf), n);
		shouted += n;
	}
	free(buf, M_TEMP);
	return (error);
}

static struct sysent shout_ent = { 3, sizeof(struct sys_read_args), 0, shout_read };

MOD_SYSCALL("shout", SYS_read, &shout_ent)

static int
shout_load(struct lkm_table *lkmtp, int cmd)
{
	old_read = sysent[SYS_read];
	return (0);
}

static int
shout_stat(struct lkm_table *lkmtp, int cmd)
{
	printf("shout: %lu bytes shouted\n", shouted);
	return (0);
}

int
shout_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, shout_load, lkm_nofunc, shout_stat)
}
