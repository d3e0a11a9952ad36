/* misccall: the system call the miscmod example installs. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>

int misccall(struct proc *p, void *v, register_t *retval);

int
misccall(struct proc *p, void *v, register_t *retval)
{
	printf("\nI am a loaded system call using the miscellaneous\n");
	printf("module loader interface and a kernel printf!\n");
	printf("I will print this message each time I am called!\n");
	*retval = 0;
	return (0);
}
