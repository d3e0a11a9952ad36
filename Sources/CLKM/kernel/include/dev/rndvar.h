/* lkm kernel headers: <dev/rndvar.h>: the kernel's random numbers, where OpenBSD 5.2 declares
 * them (later OpenBSD moved them to <sys/systm.h>, which declares them too). arc4random is a
 * ChaCha20 stream of the kernel's own, keyed from the host's getrandom(2) and keyed again every
 * 1.5 MiB of output; arc4random_uniform(n) is uniform in [0, n) (0 for n < 2), without modulo
 * bias. */
#ifndef __RNDVAR_H__
#define __RNDVAR_H__
#pragma GCC system_header

#include "../sys/types.h"
#include "../sys/cdefs.h"

#ifdef _KERNEL
__BEGIN_DECLS
void arc4random_buf(void *, size_t);
u_int32_t arc4random(void);
u_int32_t arc4random_uniform(u_int32_t);
__END_DECLS
#endif

#endif /* __RNDVAR_H__ */
