/* instrumented: an ordinary module, for compiler options whose runtimes the kernel does not
 * have (-pg, -fsanitize=address). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("instrumented")

static int table[8];

static int instrumented_load(struct lkm_table *lkmtp, int cmd)
{
	table[cmd & 7] = cmd;
	printf("instrumented: %d\n", table[1]);
	return 0;
}

int instrumented_lkmentry(struct lkm_table *, int, int);
int instrumented_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, instrumented_load, lkm_nofunc, lkm_nofunc)
}
