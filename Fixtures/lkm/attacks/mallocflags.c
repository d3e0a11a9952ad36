/* mallocflags: a system call (automatic slot) that tries malloc(9)'s flags and its size limit
 * (65535 pages, 268431360 bytes), as its argument picks; it returns 1 when the kernel behaved:
 *   1  one byte over the limit with M_WAITOK | M_CANFAIL: NULL
 *   2  one byte over the limit with M_NOWAIT | M_CANFAIL: NULL
 *   3  one byte over the limit with M_WAITOK: a panic
 *   4  the limit itself with M_ZERO: zeroed at both ends, written, freed
 *   5  M_ZERO on slots that held other data: 3000 dirty 64-byte allocations freed, then 3000
 *      zeroed ones (the slabs wrap around to the dirty slots)
 *   6  one byte over the limit with M_NOWAIT: a panic, as on OpenBSD (only M_CANFAIL fails) */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

#define LIMIT (65535UL * 4096)
#define COUNT 3000

struct mallocflags_args {
	syscallarg(int) how;
};

static char *kept[COUNT];

static int
mallocflags_call(struct proc *p, void *v, register_t *retval)
{
	struct mallocflags_args *uap = v;
	char *q;
	int i, j, ok = 1;

	switch (SCARG(uap, how)) {
	case 1:
		ok = malloc(LIMIT + 1, M_TEMP, M_WAITOK | M_CANFAIL) == NULL;
		break;
	case 2:
		ok = malloc(LIMIT + 1, M_TEMP, M_NOWAIT | M_CANFAIL) == NULL;
		break;
	case 3:
		ok = malloc(LIMIT + 1, M_TEMP, M_WAITOK) == NULL;
		break;
	case 4:
		q = malloc(LIMIT, M_TEMP, M_WAITOK | M_ZERO);
		ok = q != NULL && q[0] == 0 && q[LIMIT - 1] == 0;
		q[0] = q[LIMIT - 1] = 1;
		free(q, M_TEMP);
		break;
	case 5:
		for (i = 0; i < COUNT; i++) {
			kept[i] = malloc(64, M_TEMP, M_WAITOK);
			memset(kept[i], 0xff, 64);
		}
		for (i = 0; i < COUNT; i++)
			free(kept[i], M_TEMP);
		for (i = 0; i < COUNT; i++) {
			kept[i] = malloc(64, M_TEMP, M_WAITOK | M_ZERO);
			for (j = 0; j < 64; j++)
				if (kept[i][j] != 0)
					ok = 0;
		}
		for (i = 0; i < COUNT; i++)
			free(kept[i], M_TEMP);
		break;
	case 6:
		ok = malloc(LIMIT + 1, M_TEMP, M_NOWAIT) == NULL;
		break;
	default:
		return (EINVAL);
	}
	*retval = ok;
	return (0);
}

static struct sysent mallocflags_sysent = {
	1, sizeof(struct mallocflags_args), 0, mallocflags_call
};

MOD_SYSCALL("mallocflags", -1, &mallocflags_sysent)

int mallocflags_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
mallocflags_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
