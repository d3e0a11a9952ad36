/*
 * newsyscall: a loadable system call, written like OpenBSD's /usr/share/lkm/syscall example.
 *
 * The module declares a system call with no arguments and asks for an automatic slot (-1):
 * the kernel puts it in the first sys_lkmnosys slot, 210 on a fresh kernel, and modstat shows
 * the slot in the "Off" column. Load with
 *
 *	modload -e newsyscall newsyscall.o mycall.o
 *
 * and unload with modunload -n newsyscall.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/syscall.h>
#include <sys/lkm.h>

/* The system call itself, in mycall.c. */
extern int mycall(struct proc *p, void *v, register_t *retval);

/* The new system call table entry: no arguments, handled by mycall. */
static struct sysent newent = {
	0, 0, 0, mycall
};

/* Declare the module: its name, an automatic slot, and the entry to install. */
MOD_SYSCALL("newsyscall", -1, &newent)

/*
 * The load hook runs before the kernel installs the entry, so its banner is printed even when
 * the load then fails (a second newsyscall: EEXIST).
 */
static int
newsyscall_load(struct lkm_table *lkmtp, int cmd)
{
	if (cmd == LKM_E_LOAD) {
		printf("\nSample Loaded system call\n");
		printf("Copyright (c) 1993\n");
		printf("Terrence R. Lambert\n");
		printf("All rights reserved\n");
	}
	return (0);
}

/* The module's entry, named with -e on modload's command line. */
int
newsyscall(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, newsyscall_load, lkm_nofunc, lkm_nofunc)
}
