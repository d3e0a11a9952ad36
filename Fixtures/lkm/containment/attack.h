/* What the containment attacks share: each is a misc module whose LKM_E_LOAD runs ATTACK()
 * (defined by the file before including this), so that loading it is the attack. Compiled
 * like any module: cc -c -D_KERNEL -I Sources/CLKM/kernel/include FILE.c */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

#define ATTACK_MODULE(name)                                                     \
	MOD_MISC(#name)                                                         \
	static int name##_load(struct lkm_table *lkmtp, int cmd)                \
	{                                                                       \
		return attack();                                                \
	}                                                                       \
	int name##_lkmentry(struct lkm_table *, int, int);                      \
	int name##_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)          \
	{                                                                       \
		DISPATCH(lkmtp, cmd, ver, name##_load, lkm_nofunc, lkm_nofunc)  \
	}

/* A raw system call from module code, as a mutated or hostile module makes one. */
static inline long
raw_syscall(long number, long a0, long a1, long a2)
{
	long ret;
	__asm__ volatile("syscall"
	    : "=a"(ret)
	    : "a"(number), "D"(a0), "S"(a1), "d"(a2)
	    : "rcx", "r11", "memory");
	return ret;
}
