/* Allocates 1 MiB blocks with malloc(9), touching each page, and never stops. */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>
#include <sys/malloc.h>
#include <sys/errno.h>

MOD_MISC("hog")

static int hog_load(struct lkm_table *lkmtp, int cmd) {
	for (;;) {
		char *p = malloc(1 << 20, M_TEMP, M_WAITOK);
		for (int i = 0; i < (1 << 20); i += 4096)
			p[i] = 1;
	}
	return 0;
}

int hog_lkmentry(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, hog_load, lkm_nofunc, lkm_nofunc)
}
