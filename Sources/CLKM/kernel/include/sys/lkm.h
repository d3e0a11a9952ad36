/* lkm kernel headers: <sys/lkm.h>, loadable kernel modules, with OpenBSD's names and layouts
 * (sys/sys/lkm.h after rev 1.9; amd64 sizes). As on OpenBSD, the module declarations, DISPATCH
 * and the kernel's functions are under _KERNEL (modules are compiled with -D_KERNEL); the module
 * types and the /dev/lkm ioctls are for userland too.
 *
 * From C++: the declarations are extern "C", and struct lkm_table's member `private` (a C++
 * keyword) is named `lkm_private` there; DISPATCH uses the right name in either language. */
#ifndef _SYS_LKM_H_
#define _SYS_LKM_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"
#include "ioccom.h"

/* Supported module types */
typedef enum loadmod {
	LM_SYSCALL,
	LM_VFS,
	LM_DEV,
	LM_EXEC,
	LM_MISC
} MODTYPE;

#define LKM_OLDVERSION 1
#define LKM_VERSION 2
#define MAXLKMNAME 32

/* The `private` members (struct lkm_table, struct lmc_stat), under a name C++ accepts. */
#ifdef __cplusplus
#define __LKM_PRIVATE lkm_private
#define __LKM_NAME(name) ((char *)(name))
/* _module keeps its C symbol name (the kernel reads a module's declaration through it). */
#define __LKM_MODULE __asm__("_module")
#else
#define __LKM_PRIVATE private
#define __LKM_NAME(name) name
#define __LKM_MODULE
#endif

#ifdef _KERNEL
#include "param.h"
#include "systm.h"
#include "conf.h"
#include "exec.h"

/* Commands passed to a module's entry */
#define LKM_E_LOAD 1
#define LKM_E_UNLOAD 2
#define LKM_E_STAT 3

/* Common header: struct lkm_any and struct lkm_misc are exactly this (24 bytes). */
struct lkm_any {
	MODTYPE lkm_type;
	int lkm_ver;
	char *lkm_name;
	u_long lkm_offset;
};

struct lkm_misc {
	MODTYPE lkm_type;
	int lkm_ver;
	char *lkm_name;
	u_long lkm_offset;
};

/* Loadable system call */
struct lkm_syscall {
	MODTYPE lkm_type;
	int lkm_ver;
	char *lkm_name;
	u_long lkm_offset;   /* requested slot, -1 for automatic; the slot used after load */
	struct sysent *lkm_sysent;
	struct sysent lkm_oldent; /* save area for unload */
};

/* Loadable file system: registered by name (<sys/mount.h>); lkm_offset is not used. */
struct vfsconf;
struct lkm_vfs {
	MODTYPE lkm_type;
	int lkm_ver;
	char *lkm_name;
	u_long lkm_offset;
	struct vfsconf *lkm_vfsconf;
};

/* Loadable device driver */
typedef enum devtype {
	LM_DT_BLOCK,
	LM_DT_CHAR
} DEVTYPE;

struct lkm_dev {
	MODTYPE lkm_type;
	int lkm_ver;
	char *lkm_name;
	u_long lkm_offset;   /* requested major, -1 for automatic; the major used after load */
	DEVTYPE lkm_devtype;
	union {
		void *anon;
		struct bdevsw *bdev;
		struct cdevsw *cdev;
	} lkm_dev;
	union {
		struct bdevsw bdev;
		struct cdevsw cdev;
	} lkm_olddev;        /* save area for unload */
};

/* Loadable execution interpreter */
struct lkm_exec {
	MODTYPE lkm_type;
	int lkm_ver;
	char *lkm_name;
	u_long lkm_offset;   /* requested execsw slot, -1 for automatic; the slot used after load */
	struct execsw *lkm_exec;
	struct execsw lkm_oldexec; /* save area for unload */
};

/* Any module, as the kernel sees it through lkm_table.private */
union lkm_generic {
	struct lkm_any *lkm_any;
	struct lkm_syscall *lkm_syscall;
	struct lkm_vfs *lkm_vfs;
	struct lkm_dev *lkm_dev;
	struct lkm_exec *lkm_exec;
	struct lkm_misc *lkm_misc;
};

/* The kernel's record of one module (128 bytes on amd64). */
struct lkm_table {
	struct {
		struct lkm_table *tqe_next;
		struct lkm_table **tqe_prev;
	} list;
	int type;
	u_long size;
	u_long offset;
	u_long area;
	int ver;
	int refcnt;
	int depcnt;
	int id;
	int (*entry)(struct lkm_table *, int, int);
	union lkm_generic __LKM_PRIVATE; /* `lkm_private` in C++ */
	char *syms;
	u_long sym_size;
	u_long sym_offset;
	u_long sym_symsize;
	char *sym_addr;
	int sym_id;
};

/* Module declarations: each defines the file-static _module the entry's DISPATCH uses. */
#define MOD_SYSCALL(name, callslot, sysentp) \
	static struct lkm_syscall _module __LKM_MODULE = { \
		LM_SYSCALL, \
		LKM_VERSION, \
		__LKM_NAME(name), \
		callslot, \
		sysentp \
	};

#define MOD_VFS(name, vfsslot, vfsconf) \
	static struct lkm_vfs _module __LKM_MODULE = { \
		LM_VFS, \
		LKM_VERSION, \
		__LKM_NAME(name), \
		vfsslot, \
		vfsconf \
	};

#define MOD_DEV(name, devtype, devslot, devp) \
	static struct lkm_dev _module __LKM_MODULE = { \
		LM_DEV, \
		LKM_VERSION, \
		__LKM_NAME(name), \
		devslot, \
		devtype, \
		{ (void *)devp } \
	};

#define MOD_EXEC(name, execslot, execsw) \
	static struct lkm_exec _module __LKM_MODULE = { \
		LM_EXEC, \
		LKM_VERSION, \
		__LKM_NAME(name), \
		execslot, \
		execsw \
	};

#define MOD_MISC(name) \
	static struct lkm_misc _module __LKM_MODULE = { \
		LM_MISC, \
		LKM_VERSION, \
		__LKM_NAME(name) \
	};

/* The body of a module entry: check the version, run the module's hook for cmd, then the
 * kernel's generic handler for the module's type. */
#define DISPATCH(lkmtp, cmd, ver, load, unload, stat) \
	if (ver != LKM_VERSION) \
		return EINVAL; /* version mismatch */ \
	switch (cmd) { \
		int error; \
	case LKM_E_LOAD: \
		lkmtp->__LKM_PRIVATE.lkm_any = (struct lkm_any *)&_module; \
		if ((error = load(lkmtp, cmd)) != 0) \
			return error; \
		break; \
	case LKM_E_UNLOAD: \
		if ((error = unload(lkmtp, cmd)) != 0) \
			return error; \
		break; \
	case LKM_E_STAT: \
		if ((error = stat(lkmtp, cmd)) != 0) \
			return error; \
		break; \
	} \
	return lkmdispatch(lkmtp, cmd);

__BEGIN_DECLS
int lkm_nofunc(struct lkm_table *, int);
int lkmdispatch(struct lkm_table *, int);
int lkmexists(struct lkm_table *);
struct lkm_table *lkm_list(struct lkm_table *);
__END_DECLS
#endif /* _KERNEL */

/* The ioctls of /dev/lkm and their arguments (amd64 values: LMRESERV is 0xc0484b04). The
 * kernel's lkm driver (character major 28) answers LMSTAT and LMUNLOAD as OpenBSD's did, and
 * LMLOADOBJ, its own: modload sends lkmd the objects, and the kernel process, for modload's
 * process, opens /dev/lkm and calls ioctl(2) through the system call table (a module that
 * replaces sysent[SYS_ioctl] is in the way of every load). OpenBSD's modload linked the module
 * itself and loaded it with LMRESERV, LMLOADBUF and LMREADY: those are EOPNOTSUPP here. */
struct lmc_resrv {
	u_long size;         /* IN: size of module to reserve */
	char *name;          /* IN: name (must be provided) */
	int slot;            /* OUT: allocated slot (module ID) */
	u_long addr;         /* OUT: link-to address */
	char *syms;          /* IN: symbol table */
	u_long sym_size;     /* IN: size of symbol table */
	u_long sym_offset;   /* OUT: offset of symbol table */
	u_long sym_symsize;  /* IN: size of symbol part */
	char *sym_addr;      /* OUT: symbol table address */
};

struct lmc_loadbuf {
	int cnt;     /* IN: # of chars pointed to by data */
	char *data;  /* IN: pointer to data buffer */
};

struct lmc_load {
	caddr_t address;  /* IN: user space mmap address */
	int status;       /* OUT: status of operation */
	int id;           /* OUT: module ID if loaded */
};

struct lmc_unload {
	int id;       /* IN: module ID to unload */
	char *name;   /* IN: module name to unload if id -1 */
	int status;   /* OUT: status of operation */
};

struct lmc_stat {
	int id;          /* IN/OUT: module ID, or -1 to look the name up */
	char *name;      /* IN/OUT: name of module (a buffer of MAXLKMNAME bytes) */
	u_long offset;   /* OUT: target table offset */
	MODTYPE type;    /* OUT: type of module */
	u_long area;     /* OUT: kernel load address */
	u_long size;     /* OUT: module size (pages) */
	u_long __LKM_PRIVATE; /* OUT: module private data (`lkm_private` in C++) */
	int ver;         /* OUT: lkm compile version */
};

#define LMRESERV_O _IOWR('K', 0, struct lmc_resrv)
#define LMLOADBUF _IOW('K', 1, struct lmc_loadbuf)
#define LMUNRESRV _IO('K', 2)
#define LMREADY _IOW('K', 3, u_long)
#define LMRESERV _IOWR('K', 4, struct lmc_resrv)
#define LMLOADSYMS _IOW('K', 12, struct lmc_loadbuf)
#define LMLOAD _IOW('K', 9, struct lmc_load)
#define LMUNLOAD _IOWR('K', 10, struct lmc_unload)
#define LMSTAT _IOWR('K', 11, struct lmc_stat)

/* lkm's: link and load the objects staged for the load `token` (the kernel process stages
 * modload's request before it calls this). */
struct lmc_loadobj {
	u_long token;  /* IN: the staged load */
	int status;    /* OUT: 0, or why the load failed */
	int id;        /* OUT: module ID if loaded */
};
#define LMLOADOBJ _IOWR('K', 13, struct lmc_loadobj)

#define MODIOBUF 512  /* # of bytes at a time to loadbuf */

#endif /* !_SYS_LKM_H_ */
