/* lkm kernel headers: <sys/exec.h>: the execution switch, with OpenBSD's struct execsw and a
 * small struct exec_package.
 *
 * execsw[nexecs] has 4 empty entries (es_check NULL) for loadable interpreters (MOD_EXEC). To
 * run a file, the kernel fills an exec_package with the file's name, its header (the first
 * exec_maxhdrsz bytes, the largest es_hdrsz of the installed entries), the whole file and the
 * arguments, and offers it to each entry's es_check in table order. es_check returns ENOEXEC
 * to decline; to accept it returns 0 with ep_entry set to the function that runs the program,
 * int entry(struct proc *, struct exec_package *), whose return value is the program's exit
 * status. What the program uprintf(9)s is its output, handed back to the caller. If no entry
 * accepts, the exec fails with the first error other than ENOEXEC, else ENOEXEC. */
#ifndef _SYS_EXEC_H_
#define _SYS_EXEC_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

struct emul;
struct exec_package;
struct proc;

typedef int (*exec_makecmds_fcn)(struct proc *, struct exec_package *);
/* What ep_entry points to: runs the program, returns its exit status (0-255). */
typedef int (*exec_entry_fcn)(struct proc *, struct exec_package *);

/* One entry of the execution switch (24 bytes) */
struct execsw {
	u_int es_hdrsz;              /* size of header for this format */
	exec_makecmds_fcn es_check;  /* function to check exec format */
	struct emul *es_emul;        /* emulation (not used by this kernel) */
};

/* What an interpreter is offered (72 bytes) */
struct exec_package {
	char *ep_name;       /* the file's name */
	void *ep_hdr;        /* its header: the first ep_hdrlen bytes of a buffer */
	u_int ep_hdrlen;     /* the header buffer's size (exec_maxhdrsz) */
	u_int ep_hdrvalid;   /* how many of its bytes are the file's */
	vaddr_t ep_daddr;    /* the whole file, followed by a NUL byte */
	vsize_t ep_dsize;    /* the file's size */
	u_long ep_entry;     /* set by es_check: the exec_entry_fcn that runs the program */
	void *ep_emul_arg;   /* the interpreter's own, between es_check and ep_entry */
	int ep_argc;         /* the arguments: ep_argv[0] is the file's name */
	char **ep_argv;
};

__BEGIN_DECLS
extern struct execsw execsw[];
extern int nexecs;
extern int exec_maxhdrsz;
__END_DECLS

#endif /* !_SYS_EXEC_H_ */
