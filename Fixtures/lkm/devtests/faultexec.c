/* faultexec: an interpreter for files starting "#!fault" whose programs dereference NULL. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/exec.h>
#include <sys/lkm.h>

static int
fault_run(struct proc *p, struct exec_package *epp)
{
	volatile int *null = NULL;

	return (*null);
}

static int
fault_check(struct proc *p, struct exec_package *epp)
{
	if (epp->ep_hdrvalid < 7 || memcmp(epp->ep_hdr, "#!fault", 7) != 0)
		return (ENOEXEC);
	epp->ep_entry = (u_long)fault_run;
	return (0);
}

static struct execsw fault_execsw = { 8, fault_check, NULL };

MOD_EXEC("faultexec", -1, &fault_execsw)

int
faultexec_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
