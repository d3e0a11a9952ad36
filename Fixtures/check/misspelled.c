/* Kernel functions under wrong names: printk (Linux's), Strlen (case), _bzero (underscore). */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

MOD_MISC("misspelled");

int printk(const char *, ...);
unsigned long Strlen(const char *);
void _bzero(void *, unsigned long);

static char buffer[16];

static int misspelled_load(struct lkm_table *lkmtp, int cmd) {
	_bzero(buffer, sizeof buffer);
	printk("%lu\n", Strlen("hello"));
	return 0;
}

int misspelled(struct lkm_table *lkmtp, int cmd, int ver) {
	DISPATCH(lkmtp, cmd, ver, misspelled_load, lkm_nofunc, lkm_nofunc)
}
