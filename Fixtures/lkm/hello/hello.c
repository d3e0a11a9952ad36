/*
 * hello: a generic example of what a module can use from the kernel.
 *
 * A loadable system call taking an integer and a string: hello(count, name) greets name
 * count times through uprintf (the text goes to the calling program, lkmctl) and returns
 * the length of name. The module shows
 *   - the default entry naming: modload finds hello_lkmentry in hello.o (basename +
 *     _lkmentry) when there is no xxxinit, so no -e is needed;
 *   - malloc(9)/free(9), accounted per module (nothing leaks, so unload reports nothing);
 *   - copyinstr(9) for a string argument, snprintf, strlcpy, strlen;
 *   - printf (console and message buffer), log(9) and uprintf(9);
 *   - the kernel variables hostname, version, securelevel, hz and time_second.
 *
 *	modload hello.o
 *	lkmctl syscall 210 2 world
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/proc.h>
#include <sys/lkm.h>

#define HELLO_MAXNAME 32

struct hello_args {
	syscallarg(int) count;
	syscallarg(const char *) name;
};

static int hello_call(struct proc *p, void *v, register_t *retval);

static struct sysent hello_sysent = {
	2, sizeof(struct hello_args), 0, hello_call
};

MOD_SYSCALL("hello", -1, &hello_sysent)

/* The greeting, allocated at load and freed at unload; calls served so far. */
static char *greeting;
static int calls;

static int
hello_call(struct proc *p, void *v, register_t *retval)
{
	struct hello_args *uap = v;
	int count = SCARG(uap, count);
	size_t done;
	char *name;
	int error, i;

	if (count < 0 || count > 10)
		return (EINVAL);
	name = malloc(HELLO_MAXNAME, M_TEMP, M_WAITOK | M_ZERO);
	error = copyinstr(SCARG(uap, name), name, HELLO_MAXNAME, &done);
	if (error == 0) {
		for (i = 1; i <= count; i++)
			uprintf("%s, %s! (%d of %d, from pid %d)\n", greeting, name,
			    i, count, p->p_pid);
		calls++;
		*retval = strlen(name);
	}
	free(name, M_TEMP);
	return (error);
}

static int
hello_load(struct lkm_table *lkmtp, int cmd)
{
	char line[128];
	size_t n;

	greeting = malloc(HELLO_MAXNAME, M_DEVBUF, M_WAITOK);
	n = strlcpy(greeting, "Hello", HELLO_MAXNAME);
	snprintf(line, sizeof line, "hz %d, securelevel %d, greeting of %d bytes",
	    hz, securelevel, (int)n);
	printf("hello: loading on %s: %s\n", hostname, line);
	printf("hello: kernel %s\n", version);
	log(LOG_INFO, "hello: loaded at time %ld\n", (long)time_second);
	return (0);
}

static int
hello_unload(struct lkm_table *lkmtp, int cmd)
{
	printf("hello: unloading after %d call%s\n", calls, calls == 1 ? "" : "s");
	free(greeting, M_DEVBUF);
	greeting = NULL;
	return (0);
}

static int
hello_stat(struct lkm_table *lkmtp, int cmd)
{
	return (0);
}

int hello_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
hello_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, hello_load, hello_unload, hello_stat)
}
