/*
 * miscmod: a miscellaneous module that wires in a system call itself, written like OpenBSD's
 * /usr/share/lkm/misc example.
 *
 * The kernel does nothing for a MOD_MISC module beyond calling its hooks, so the load hook
 * does the work a typed module gets from the kernel: it refuses a second copy (lkmexists),
 * finds the first free (sys_lkmnosys) slot in sysent[], keeps the old entry in its own save
 * area, installs misccall and records the slot in lkm_offset for modstat. Load with
 *
 *	modload -e miscmod miscmod.o misccall.o
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/syscall.h>
#include <sys/lkm.h>

extern int misccall(struct proc *p, void *v, register_t *retval);

/* What the kernel exports: the system call table and its free-slot marker. */
extern struct sysent sysent[];
extern int nsysent;

/* The entry misccall gets, and the save area for the entry it replaces. */
static struct sysent newent = {
	0, 0, 0, misccall
};
static struct sysent oldent;

MOD_MISC("miscmod")

static int
miscmod_handle(struct lkm_table *lkmtp, int cmd)
{
	struct lkm_misc *args = lkmtp->private.lkm_misc;
	int i, err = 0;

	switch (cmd) {
	case LKM_E_LOAD:
		/* Don't load twice (lkmexists is exported by the kernel). */
		if (lkmexists(lkmtp))
			return (EEXIST);

		/* Find a free slot, as the kernel does for an automatic system call. */
		for (i = 0; i < nsysent; i++)
			if (sysent[i].sy_call == sys_lkmnosys)
				break;
		if (i == nsysent) {
			err = ENFILE;
			break;
		}

		/* Save the old entry in our own area, then install ours. */
		bcopy(&sysent[i], &oldent, sizeof(struct sysent));
		bcopy(&newent, &sysent[i], sizeof(struct sysent));
		args->lkm_offset = i;	/* the slot, for modstat */

		printf("\nSample Loaded miscellaneous module (system call)\n");
		printf("Copyright (c) 1993\n");
		printf("Terrence R. Lambert\n");
		printf("All rights reserved\n");
		break;

	case LKM_E_UNLOAD:
		/* Put the old entry back. */
		i = args->lkm_offset;
		bcopy(&oldent, &sysent[i], sizeof(struct sysent));
		break;

	default:	/* only load and unload come here */
		err = EINVAL;
		break;
	}
	return (err);
}

int
miscmod(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, miscmod_handle, miscmod_handle, lkm_nofunc)
}
