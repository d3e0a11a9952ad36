/* badfree: a system call (automatic slot) that misuses free(9) in the way its argument picks:
 *   1  a forged header: a static buffer laid out as the old allocator's 16-byte header
 *      (magic 0x4c4b4d31, module id, size) followed by the "allocation" that is freed
 *   2  a pointer 16 bytes into a 64-byte allocation
 *   3  a 32-byte allocation freed twice
 *   4  a 100000-byte allocation (a mapping of its own) freed twice
 *   5  a 20001-byte allocation with the 9 bytes past its end written, then freed
 *   6  a 40-byte allocation with the byte before it written, then freed
 *   7  a buffer on the stack
 *   8  free(NULL), which is allowed
 * Each bad free is a panic in the kernel's free(): the call fails with EFAULT, lkmd serves on. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/lkm.h>

struct badfree_args {
	syscallarg(int) how;
};

static struct {
	unsigned int magic;
	int module;
	unsigned long size;
	char data[32];
} forged = { 0x4c4b4d31, 0, 32, { 0 } };

static int
badfree_call(struct proc *p, void *v, register_t *retval)
{
	struct badfree_args *uap = v;
	char stack[32];
	char *q;

	switch (SCARG(uap, how)) {
	case 1:
		free(forged.data, M_TEMP);
		break;
	case 2:
		q = malloc(64, M_TEMP, M_WAITOK);
		free(q + 16, M_TEMP);
		break;
	case 3:
		q = malloc(32, M_TEMP, M_WAITOK);
		free(q, M_TEMP);
		free(q, M_TEMP);
		break;
	case 4:
		q = malloc(100000, M_TEMP, M_WAITOK);
		free(q, M_TEMP);
		free(q, M_TEMP);
		break;
	case 5:
		q = malloc(20001, M_TEMP, M_WAITOK);
		memset(q + 20001, 0, 9);
		free(q, M_TEMP);
		break;
	case 6:
		q = malloc(40, M_TEMP, M_WAITOK);
		q[-1] = 0;
		free(q, M_TEMP);
		break;
	case 7:
		free(stack, M_TEMP);
		break;
	case 8:
		free(NULL, M_TEMP);
		break;
	default:
		return (EINVAL);
	}
	*retval = SCARG(uap, how);
	return (0);
}

static struct sysent badfree_sysent = {
	1, sizeof(struct badfree_args), 0, badfree_call
};

MOD_SYSCALL("badfree", -1, &badfree_sysent)

int badfree_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
badfree_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
