/* lkm kernel headers: <machine/intr.h>: spl(9), interrupt priority levels. The kernel runs every
 * request and every timeout with one big lock held, so no timeout runs while the level is
 * raised: the functions keep OpenBSD's interface and return the previous level for splx. */
#ifndef _MACHINE_INTR_H_
#define _MACHINE_INTR_H_
#pragma GCC system_header

#include "../sys/cdefs.h"

#define IPL_NONE 0
#define IPL_SOFTCLOCK 1
#define IPL_SOFTNET 2
#define IPL_BIO 3
#define IPL_NET 4
#define IPL_TTY 5
#define IPL_VM 6
#define IPL_CLOCK 7
#define IPL_HIGH 8

__BEGIN_DECLS
int splhigh(void);
int splclock(void);
int splstatclock(void);
int splvm(void);
int spltty(void);
int splnet(void);
int splbio(void);
int splsoftnet(void);
int splsoftclock(void);
int spl0(void);
void splx(int);
__END_DECLS

#endif /* !_MACHINE_INTR_H_ */
