/* lkm kernel headers: <sys/lkm.h>, loadable kernel modules, with OpenBSD's names and layouts
 * (sys/sys/lkm.h after rev 1.9; amd64 sizes). */
#ifndef _SYS_LKM_H_
#define _SYS_LKM_H_
#pragma GCC system_header

#include "types.h"
#include "param.h"
#include "systm.h"
#include "conf.h"
#include "exec.h"

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
	union lkm_generic private;
	char *syms;
	u_long sym_size;
	u_long sym_offset;
	u_long sym_symsize;
	char *sym_addr;
	int sym_id;
};

/* Module declarations: each defines the file-static _module the entry's DISPATCH uses. */
#define MOD_SYSCALL(name, callslot, sysentp) \
	static struct lkm_syscall _module = { \
		LM_SYSCALL, \
		LKM_VERSION, \
		name, \
		callslot, \
		sysentp \
	};

#define MOD_VFS(name, vfsslot, vfsconf) \
	static struct lkm_vfs _module = { \
		LM_VFS, \
		LKM_VERSION, \
		name, \
		vfsslot, \
		vfsconf \
	};

#define MOD_DEV(name, devtype, devslot, devp) \
	static struct lkm_dev _module = { \
		LM_DEV, \
		LKM_VERSION, \
		name, \
		devslot, \
		devtype, \
		{ (void *)devp } \
	};

#define MOD_EXEC(name, execslot, execsw) \
	static struct lkm_exec _module = { \
		LM_EXEC, \
		LKM_VERSION, \
		name, \
		execslot, \
		execsw \
	};

#define MOD_MISC(name) \
	static struct lkm_misc _module = { \
		LM_MISC, \
		LKM_VERSION, \
		name \
	};

/* The body of a module entry: check the version, run the module's hook for cmd, then the
 * kernel's generic handler for the module's type. */
#define DISPATCH(lkmtp, cmd, ver, load, unload, stat) \
	if (ver != LKM_VERSION) \
		return EINVAL; /* version mismatch */ \
	switch (cmd) { \
		int error; \
	case LKM_E_LOAD: \
		lkmtp->private.lkm_any = (struct lkm_any *)&_module; \
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

int lkm_nofunc(struct lkm_table *, int);
int lkmdispatch(struct lkm_table *, int);
int lkmexists(struct lkm_table *);
struct lkm_table *lkm_list(struct lkm_table *);

#endif /* !_SYS_LKM_H_ */
