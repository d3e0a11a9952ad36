/*
 * badioctl: a module that replaces ioctl(2) badly, the case lkm(4) warns about ("special care
 * should be taken with the ioctl(2) system call, as it is used to load and unload modules").
 * Its ioctl answers ENOTTY to everything, /dev/lkm's LMLOADOBJ and LMUNLOAD included, so no
 * module can be loaded or unloaded while it is there, itself included:
 *
 *	modload -e badioctl_lkmentry badioctl.o
 *	modload newsyscall.o	(fails: LMLOADOBJ: Inappropriate ioctl for device)
 *	modunload -n badioctl	(fails the same way)
 *	modunload -f -n badioctl	(the supervisor's way out: around the system call table)
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/syscall.h>
#include <sys/syscallargs.h>
#include <sys/errno.h>
#include <sys/lkm.h>

static int
bad_ioctl(struct proc *p, void *v, register_t *retval)
{
	return (ENOTTY);
}

static struct sysent bad_ent = { 3, sizeof(struct sys_ioctl_args), 0, bad_ioctl };

MOD_SYSCALL("badioctl", SYS_ioctl, &bad_ent)

int
badioctl_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
