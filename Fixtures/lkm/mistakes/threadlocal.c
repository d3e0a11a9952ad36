/* threadlocal: two thread-local variables, each used several times. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

__thread int calls;
static __thread long total;

MOD_MISC("threadlocal")

static int threadlocal_load(struct lkm_table *lkmtp, int cmd)
{
	calls++;
	total += calls;
	printf("threadlocal: %d calls, %ld\n", calls, total);
	calls += 2;
	return total > 100 ? EINVAL : 0;
}

int threadlocal_lkmentry(struct lkm_table *, int, int);
int threadlocal_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, threadlocal_load, lkm_nofunc, lkm_nofunc)
}
