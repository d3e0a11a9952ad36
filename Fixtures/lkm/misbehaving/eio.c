/* eio: its load handler fails with its own errno, EIO; modload reports it as
 * "error initializing module: Input/output error". With -DLOAD_ERRNO=EFAULT it returns EFAULT
 * itself: "Bad address" without an oops (nothing faulted). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

#ifndef LOAD_ERRNO
#define LOAD_ERRNO EIO
#endif

MOD_MISC("eio")

static int
eio_load(struct lkm_table *lkmtp, int cmd)
{
	printf("eio: no device here\n");
	return (LOAD_ERRNO);
}

int xxxinit(struct lkm_table *lkmtp, int cmd, int ver);

int
xxxinit(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, eio_load, lkm_nofunc, lkm_nofunc)
}
