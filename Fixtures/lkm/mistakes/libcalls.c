/* libcalls: calls C library functions, declared by hand (the kernel's headers stop a module
 * that includes <stdio.h>). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

void *fopen(const char *, const char *);
int sprintf(char *, const char *, ...);
int atoi(const char *);

MOD_MISC("libcalls")

static int libcalls_load(struct lkm_table *lkmtp, int cmd)
{
	char buf[16];
	if (fopen("/etc/motd", "r") == NULL)
		return ENOENT;
	sprintf(buf, "%d", cmd);
	return atoi(buf);
}

int libcalls_lkmentry(struct lkm_table *, int, int);
int libcalls_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, libcalls_load, lkm_nofunc, lkm_nofunc)
}
