/* ubsan: undefined behaviour for the kernel's UBSan runtime (compile with -fsanitize=undefined).
 * Its system call runs case N of its argument and returns the result; each case is reported
 * in dmesg with its source location (kubsan: ubsan.c:LINE:COLUMN: ...) once, and the module
 * goes on. Case 9 reaches __builtin_unreachable: an oops. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/lkm.h>

struct ubsan_args {
	syscallarg(long) which;
	syscallarg(long) value;
};

static int table[4];
static volatile int sink;

static int ubsan_call(struct proc *p, void *v, register_t *retval)
{
	struct ubsan_args *uap = v;
	int value = (int)SCARG(uap, value);
	long index = SCARG(uap, value);
	int *null = NULL;
	char bytes[8] = {0};
	switch (SCARG(uap, which)) {
	case 1:
		*retval = value + 2147483647;
		break;
	case 2:
		*retval = 1 << value;
		break;
	case 3:
		*retval = table[index];
		break;
	case 4:
		*retval = 10 / value;
		break;
	case 5:
		*retval = -value;
		break;
	case 6:
		*retval = *(int *)(bytes + value);
		break;
	case 7:
		*retval = null != NULL ? 0 : (value ? *(volatile int *)null : 0);
		break;
	case 8:
		*retval = value * 65536 * 65536;
		break;
	case 9:
		if (value)
			__builtin_unreachable();
		break;
	default:
		*retval = 0;
	}
	sink = (int)*retval;
	return 0;
}

static struct sysent ubsan_sysent = { 2, sizeof(struct ubsan_args), 0, ubsan_call };

MOD_SYSCALL("ubsan", -1, &ubsan_sysent)

int ubsan_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);
int ubsan_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
}
