/* slot: a system call module whose name comes from the compiler, -DSLOTNAME='"slot3"', so that
 * several copies can fill the free slots 210-219 (the eleventh gets ENFILE). The call returns
 * the slot the module got. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

#ifndef SLOTNAME
#define SLOTNAME "slot"
#endif

static int slot_call(struct proc *p, void *v, register_t *retval);

static struct sysent slot_sysent = {
	0, 0, 0, slot_call
};

MOD_SYSCALL(SLOTNAME, -1, &slot_sysent)

static int
slot_call(struct proc *p, void *v, register_t *retval)
{
	*retval = _module.lkm_offset;
	return (0);
}

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
