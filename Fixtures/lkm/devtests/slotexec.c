/* A do-nothing interpreter for the slot tests (it declines every file): -DNAME -DSLOT. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/exec.h>
#include <sys/lkm.h>

#ifndef NAME
#define NAME "slotexec"
#endif
#ifndef SLOT
#define SLOT -1
#endif

static int
slot_check(struct proc *p, struct exec_package *epp)
{
	return (ENOEXEC);
}

static struct execsw slot_execsw = { 16, slot_check, NULL };

MOD_EXEC(NAME, SLOT, &slot_execsw)

int
slotexec_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
