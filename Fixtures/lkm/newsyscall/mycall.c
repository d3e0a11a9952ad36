/*
 * mycall: the body of the newsyscall example's system call. It prints on the kernel console
 * (lkmd's standard output and the message buffer, as lkmctl dmesg shows) and returns 0.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>

int mycall(struct proc *p, void *v, register_t *retval);

int
mycall(struct proc *p, void *v, register_t *retval)
{
	printf("\nI am a loaded system call using the kernel printf!\n");
	printf("I will print this message each time I am called!\n");
	*retval = 0;
	return (0);
}
