/* lkm kernel headers: <sys/select.h>: struct selinfo and selrecord(9)/selwakeup(9), as a driver
 * uses them for poll: its d_poll calls selrecord(p, &sc->sc_rsel) when nothing is ready, and
 * the code that makes data ready calls selwakeup(&sc->sc_rsel), which wakes every poll(2)
 * recorded on it. The kernel keeps who polls elsewhere, keyed by the selinfo's address: a
 * module only gives the memory (zeroed) and must not free it while a poll may be recorded
 * (the kernel forgets a module's records when it unloads). */
#ifndef _SYS_SELECT_H_
#define _SYS_SELECT_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

struct proc;

struct selinfo {
	void *si_kernel;    /* unused: the kernel's records are its own */
	pid_t si_selpid;    /* the last process that selrecord recorded */
	short si_flags;
};
#define SI_COLL 0x0001  /* more than one process polls */

#ifdef _KERNEL
__BEGIN_DECLS
void selrecord(struct proc *selector, struct selinfo *);
void selwakeup(struct selinfo *);
__END_DECLS
#endif

#endif /* !_SYS_SELECT_H_ */
