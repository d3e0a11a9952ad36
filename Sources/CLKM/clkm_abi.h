/* The module-facing structures (kernel/include/sys/{lkm,systm,proc}.h) as the kernel's C code
 * sees them. The module headers are not included here (they would clash with the C library's);
 * these definitions must match them byte for byte, which the static assertions and the
 * header-layout test check. */
#ifndef CLKM_ABI_H
#define CLKM_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef long clkm_register_t;

#define CLKM_NGROUPS 16

/* struct ucred (sys/ucred.h, OpenBSD 5.2's fields). */
struct clkm_ucred {
  unsigned cr_ref;
  unsigned cr_uid;
  unsigned cr_gid;
  short cr_ngroups;
  unsigned cr_groups[CLKM_NGROUPS];
};

struct clkm_proc {
  int p_pid;
  unsigned p_uid;
  char p_comm[17];
  struct clkm_ucred *p_ucred;
  void *p_fd;
};

typedef int clkm_sy_call_t(struct clkm_proc *, void *, clkm_register_t *);

struct clkm_sysent {
  short sy_narg;
  short sy_argsize;
  int sy_flags;
  clkm_sy_call_t *sy_call;
};

struct lkm_any {
  int lkm_type;
  int lkm_ver;
  char *lkm_name;
  unsigned long lkm_offset;
};

struct lkm_syscall {
  int lkm_type;
  int lkm_ver;
  char *lkm_name;
  unsigned long lkm_offset;
  struct clkm_sysent *lkm_sysent;
  struct clkm_sysent lkm_oldent;
};

union lkm_generic {
  struct lkm_any *lkm_any;
  struct lkm_syscall *lkm_syscall;
};

struct lkm_table {
  struct {
    struct lkm_table *tqe_next;
    struct lkm_table **tqe_prev;
  } list;
  int type;
  unsigned long size;
  unsigned long offset;
  unsigned long area;
  int ver;
  int refcnt;
  int depcnt;
  int id;
  int (*entry)(struct lkm_table *, int, int);
  union lkm_generic private;
  char *syms;
  unsigned long sym_size;
  unsigned long sym_offset;
  unsigned long sym_symsize;
  char *sym_addr;
  int sym_id;
};

_Static_assert(sizeof(struct clkm_sysent) == 16, "struct sysent is 16 bytes");
_Static_assert(sizeof(struct clkm_ucred) == 80, "struct ucred is 80 bytes");
_Static_assert(offsetof(struct clkm_ucred, cr_groups) == 16, "cr_groups at 16");
_Static_assert(offsetof(struct clkm_proc, p_ucred) == 32, "p_ucred at 32");
_Static_assert(offsetof(struct clkm_proc, p_fd) == 40, "p_fd at 40");
_Static_assert(sizeof(struct clkm_proc) == 48, "struct proc is 48 bytes");
_Static_assert(sizeof(struct lkm_any) == 24, "struct lkm_any is 24 bytes");
_Static_assert(offsetof(struct lkm_syscall, lkm_sysent) == 24, "lkm_sysent at 24");
_Static_assert(sizeof(struct lkm_table) == 128, "struct lkm_table is 128 bytes");
_Static_assert(offsetof(struct lkm_table, refcnt) == 52, "refcnt at 52");
_Static_assert(offsetof(struct lkm_table, entry) == 64, "entry at 64");
_Static_assert(offsetof(struct lkm_table, private) == 72, "private at 72");
_Static_assert(offsetof(struct lkm_table, sym_id) == 120, "sym_id at 120");

#define CLKM_SYS_MAXSYSCALL 311
#define CLKM_LKM_VERSION 2

/* Functions modules call live in this section, so that a fault inside one during a guarded
 * call is charged to the module that called it. */
#define CLKM_MODAPI __attribute__((section("clkm_modapi"), used, noinline))

/* The kernel data arena (below 2 GiB, so -fno-pic and -mcmodel=kernel modules reach it). */
struct clkm_kdata {
  struct clkm_sysent sysent[CLKM_SYS_MAXSYSCALL];
  int nsysent;
  int hz;
  long time_second;
  int securelevel;
  char hostname[256];
  char version[256];
  /* __stack_chk_guard: the canary of modules built with -mstack-protector-guard=global. */
  unsigned long stack_chk_guard;
  int ticks;
  /* Seconds since the kernel booted (kern_tc.c). */
  long time_uptime;
  /* pool(9)'s default page allocator, for modules that name it (subr_pool.c ignores it). */
  struct {
    void *pa_alloc;
    void *pa_free;
    int pa_pagesz;
    int pa_pagemask;
    int pa_pageshift;
  } pool_allocator_nointr;
};
extern struct clkm_kdata *clkm_kd;

/* struct pool as <sys/pool.h> declares it: what the kernel writes for the module to read
 * (subr_pool.c keeps the real state in its own memory). */
struct clkm_pool {
  void *pr_poollist[2];
  unsigned pr_size, pr_align, pr_itemoffset, pr_minitems, pr_minpages, pr_maxpages, pr_npages,
      pr_itemsperpage, pr_slack, pr_nitems, pr_nout, pr_hardlimit, pr_serial, pr_pgsize;
  void *pr_alloc;
  const char *pr_wchan;
  int pr_flags, pr_roflags, pr_ipl;
  const char *pr_hardlimit_warning;
  struct {
    long tv_sec, tv_usec;
  } pr_hardlimit_ratecap, pr_hardlimit_warning_last;
  unsigned long pr_nget, pr_nfail, pr_nput, pr_npagealloc, pr_npagefree;
  unsigned pr_hiwat;
  unsigned long pr_nidle;
};
_Static_assert(offsetof(struct clkm_pool, pr_size) == 16, "pr_size at 16");
_Static_assert(offsetof(struct clkm_pool, pr_alloc) == 72, "pr_alloc at 72");
_Static_assert(offsetof(struct clkm_pool, pr_hardlimit_warning) == 104, "pr_hardlimit_warning at 104");
_Static_assert(offsetof(struct clkm_pool, pr_nget) == 144, "pr_nget at 144");
_Static_assert(sizeof(struct clkm_pool) == 200, "struct pool is 200 bytes");

#endif

/* ---- Devices, file systems, execution interpreters (kernel/include/sys/{uio,conf,buf,exec,
 * mount,vnode,dirent}.h and lkm.h's lkm_dev, lkm_vfs, lkm_exec), as the kernel's C code sees
 * them. ---- */
#ifndef CLKM_ABI_DEV_H
#define CLKM_ABI_DEV_H

typedef int clkm_dev_t;
typedef long clkm_off_t;
typedef int64_t clkm_daddr_t;

struct clkm_iovec {
  void *iov_base;
  size_t iov_len;
};

enum { CLKM_UIO_READ = 0, CLKM_UIO_WRITE = 1 };
enum { CLKM_UIO_USERSPACE = 0, CLKM_UIO_SYSSPACE = 1 };

struct clkm_uio {
  struct clkm_iovec *uio_iov;
  int uio_iovcnt;
  clkm_off_t uio_offset;
  size_t uio_resid;
  int uio_segflg;
  int uio_rw;
  struct clkm_proc *uio_procp;
};

struct clkm_buf {
  long b_flags;
  int b_error;
  clkm_dev_t b_dev;
  long b_bcount;
  size_t b_resid;
  char *b_data;
  clkm_daddr_t b_blkno;
  struct clkm_proc *b_proc;
};
#define CLKM_B_DONE 0x00000100
#define CLKM_B_ERROR 0x00000400
#define CLKM_B_READ 0x00008000
#define CLKM_DEV_BSIZE 512

struct clkm_bdevsw {
  int (*d_open)(clkm_dev_t, int, int, struct clkm_proc *);
  int (*d_close)(clkm_dev_t, int, int, struct clkm_proc *);
  void (*d_strategy)(struct clkm_buf *);
  int (*d_ioctl)(clkm_dev_t, unsigned long, char *, int, struct clkm_proc *);
  int (*d_dump)(clkm_dev_t, clkm_daddr_t, char *, size_t);
  clkm_daddr_t (*d_psize)(clkm_dev_t);
  unsigned d_type;
};

struct clkm_cdevsw {
  int (*d_open)(clkm_dev_t, int, int, struct clkm_proc *);
  int (*d_close)(clkm_dev_t, int, int, struct clkm_proc *);
  int (*d_read)(clkm_dev_t, struct clkm_uio *, int);
  int (*d_write)(clkm_dev_t, struct clkm_uio *, int);
  int (*d_ioctl)(clkm_dev_t, unsigned long, char *, int, struct clkm_proc *);
  int (*d_stop)(void *, int);
  void *(*d_tty)(clkm_dev_t);
  int (*d_poll)(clkm_dev_t, int, struct clkm_proc *);
  unsigned long (*d_mmap)(clkm_dev_t, clkm_off_t, int);
  unsigned d_type;
  unsigned d_flags;
  int (*d_kqfilter)(clkm_dev_t, void *);
};

struct clkm_exec_package;
struct clkm_execsw {
  unsigned es_hdrsz;
  int (*es_check)(struct clkm_proc *, struct clkm_exec_package *);
  void *es_emul;
};

struct clkm_exec_package {
  char *ep_name;
  void *ep_hdr;
  unsigned ep_hdrlen;
  unsigned ep_hdrvalid;
  unsigned long ep_daddr;
  unsigned long ep_dsize;
  unsigned long ep_entry;
  void *ep_emul_arg;
  int ep_argc;
  char **ep_argv;
};

struct lkm_vfs {
  int lkm_type;
  int lkm_ver;
  char *lkm_name;
  unsigned long lkm_offset;
  struct clkm_vfsconf *lkm_vfsconf;
};

struct lkm_dev {
  int lkm_type;
  int lkm_ver;
  char *lkm_name;
  unsigned long lkm_offset;
  int lkm_devtype;
  union {
    void *anon;
    struct clkm_bdevsw *bdev;
    struct clkm_cdevsw *cdev;
  } lkm_dev;
  union {
    struct clkm_bdevsw bdev;
    struct clkm_cdevsw cdev;
  } lkm_olddev;
};
enum { CLKM_LM_DT_BLOCK = 0, CLKM_LM_DT_CHAR = 1 };

struct lkm_exec {
  int lkm_type;
  int lkm_ver;
  char *lkm_name;
  unsigned long lkm_offset;
  struct clkm_execsw *lkm_exec;
  struct clkm_execsw lkm_oldexec;
};

#define CLKM_MFSNAMELEN 16
#define CLKM_MNAMELEN 90

struct clkm_statfs {
  uint32_t f_flags;
  uint32_t f_bsize;
  uint64_t f_blocks;
  uint64_t f_bfree;
  uint64_t f_files;
  uint64_t f_ffree;
  char f_fstypename[CLKM_MFSNAMELEN];
  char f_mntonname[CLKM_MNAMELEN];
  char f_mntfromname[CLKM_MNAMELEN];
};

struct clkm_mount {
  struct clkm_vfsconf *mnt_vfc;
  struct clkm_vfsops *mnt_op;
  int mnt_flag;
  void *mnt_data;
  struct clkm_statfs mnt_stat;
};
#define CLKM_MNT_LOCAL 0x00001000
#define CLKM_MNT_FORCE 0x00080000

struct clkm_vnode;
struct clkm_vfsops {
  int (*vfs_mount)(struct clkm_mount *, const char *, void *, void *, struct clkm_proc *);
  int (*vfs_start)(struct clkm_mount *, int, struct clkm_proc *);
  int (*vfs_unmount)(struct clkm_mount *, int, struct clkm_proc *);
  int (*vfs_root)(struct clkm_mount *, struct clkm_vnode **);
  void *vfs_quotactl;
  void *vfs_statfs;
  void *vfs_sync;
  void *vfs_vget;
  void *vfs_fhtovp;
  void *vfs_vptofh;
  int (*vfs_init)(struct clkm_vfsconf *);
  void *vfs_sysctl;
  void *vfs_checkexp;
};

struct clkm_vfsconf {
  struct clkm_vfsops *vfc_vfsops;
  char vfc_name[CLKM_MFSNAMELEN];
  int vfc_typenum;
  unsigned vfc_refcount;
  int vfc_flags;
  struct clkm_vfsconf *vfc_next;
  size_t vfc_datasize;
};

enum { CLKM_VNON, CLKM_VREG, CLKM_VDIR, CLKM_VBLK, CLKM_VCHR, CLKM_VLNK, CLKM_VSOCK,
       CLKM_VFIFO, CLKM_VBAD };

struct clkm_vops;
struct clkm_vnode {
  int v_type;
  int v_tag;
  struct clkm_vops *v_op;
  struct clkm_mount *v_mount;
  void *v_data;
};

struct clkm_timespec {
  long tv_sec;
  long tv_nsec;
};

struct clkm_timeval {
  long tv_sec;
  long tv_usec;
};

struct clkm_vattr {
  int va_type;
  unsigned va_mode;
  uint32_t va_nlink;
  unsigned va_uid;
  unsigned va_gid;
  uint64_t va_fileid;
  uint64_t va_size;
  struct clkm_timespec va_mtime;
};

struct clkm_componentname {
  unsigned long cn_nameiop;
  unsigned long cn_flags;
  struct clkm_proc *cn_proc;
  char *cn_nameptr;
  long cn_namelen;
};

struct clkm_vops {
  int (*vop_create)(void *);
  int (*vop_getattr)(void *);
  int (*vop_lookup)(void *);
  int (*vop_read)(void *);
  int (*vop_readdir)(void *);
  int (*vop_reclaim)(void *);
  int (*vop_write)(void *);
};

struct clkm_vop_create_args {
  struct clkm_vnode *a_dvp;
  struct clkm_vnode **a_vpp;
  struct clkm_componentname *a_cnp;
  struct clkm_vattr *a_vap;
};
struct clkm_vop_getattr_args {
  struct clkm_vnode *a_vp;
  struct clkm_vattr *a_vap;
  void *a_cred;
  struct clkm_proc *a_p;
};
struct clkm_vop_lookup_args {
  struct clkm_vnode *a_dvp;
  struct clkm_vnode **a_vpp;
  struct clkm_componentname *a_cnp;
};
struct clkm_vop_rw_args {
  struct clkm_vnode *a_vp;
  struct clkm_uio *a_uio;
  int a_ioflag;
  void *a_cred;
};
struct clkm_vop_readdir_args {
  struct clkm_vnode *a_vp;
  struct clkm_uio *a_uio;
  void *a_cred;
  int *a_eofflag;
};
struct clkm_vop_reclaim_args {
  struct clkm_vnode *a_vp;
  struct clkm_proc *a_p;
};

/* struct dirent's header; the name follows at offset 24. */
struct clkm_dirent {
  uint64_t d_fileno;
  int64_t d_off;
  uint16_t d_reclen;
  uint8_t d_type;
  uint8_t d_namlen;
  uint8_t d_padding[4];
  char d_name[256];
};

_Static_assert(sizeof(struct clkm_iovec) == 16, "struct iovec is 16 bytes");
_Static_assert(sizeof(struct clkm_uio) == 48, "struct uio is 48 bytes");
_Static_assert(offsetof(struct clkm_uio, uio_resid) == 24, "uio_resid at 24");
_Static_assert(offsetof(struct clkm_uio, uio_procp) == 40, "uio_procp at 40");
_Static_assert(sizeof(struct clkm_buf) == 56, "struct buf is 56 bytes");
_Static_assert(offsetof(struct clkm_buf, b_resid) == 24, "b_resid at 24");
_Static_assert(offsetof(struct clkm_buf, b_blkno) == 40, "b_blkno at 40");
_Static_assert(sizeof(struct clkm_bdevsw) == 56, "struct bdevsw is 56 bytes");
_Static_assert(sizeof(struct clkm_cdevsw) == 88, "struct cdevsw is 88 bytes");
_Static_assert(offsetof(struct clkm_cdevsw, d_type) == 72, "d_type at 72");
_Static_assert(sizeof(struct clkm_execsw) == 24, "struct execsw is 24 bytes");
_Static_assert(sizeof(struct clkm_exec_package) == 72, "struct exec_package is 72 bytes");
_Static_assert(offsetof(struct clkm_exec_package, ep_entry) == 40, "ep_entry at 40");
_Static_assert(offsetof(struct clkm_exec_package, ep_argv) == 64, "ep_argv at 64");
_Static_assert(sizeof(struct lkm_vfs) == 32, "struct lkm_vfs is 32 bytes");
_Static_assert(offsetof(struct lkm_dev, lkm_dev) == 32, "lkm_dev at 32");
_Static_assert(offsetof(struct lkm_dev, lkm_olddev) == 40, "lkm_olddev at 40");
_Static_assert(sizeof(struct lkm_dev) == 128, "struct lkm_dev is 128 bytes");
_Static_assert(offsetof(struct lkm_exec, lkm_oldexec) == 32, "lkm_oldexec at 32");
_Static_assert(sizeof(struct lkm_exec) == 56, "struct lkm_exec is 56 bytes");
_Static_assert(sizeof(struct clkm_statfs) == 240, "struct statfs is 240 bytes");
_Static_assert(sizeof(struct clkm_mount) == 272, "struct mount is 272 bytes");
_Static_assert(offsetof(struct clkm_mount, mnt_stat) == 32, "mnt_stat at 32");
_Static_assert(sizeof(struct clkm_vfsops) == 104, "struct vfsops is 104 bytes");
_Static_assert(offsetof(struct clkm_vfsops, vfs_init) == 80, "vfs_init at 80");
_Static_assert(sizeof(struct clkm_vfsconf) == 56, "struct vfsconf is 56 bytes");
_Static_assert(offsetof(struct clkm_vfsconf, vfc_refcount) == 28, "vfc_refcount at 28");
_Static_assert(sizeof(struct clkm_vnode) == 32, "struct vnode is 32 bytes");
_Static_assert(sizeof(struct clkm_vattr) == 56, "struct vattr is 56 bytes");
_Static_assert(offsetof(struct clkm_vattr, va_mtime) == 40, "va_mtime at 40");
_Static_assert(sizeof(struct clkm_componentname) == 40, "struct componentname is 40 bytes");
_Static_assert(sizeof(struct clkm_vops) == 56, "struct vops is 56 bytes");
_Static_assert(offsetof(struct clkm_dirent, d_name) == 24, "d_name at 24");

#define CLKM_NBLKDEV 20
#define CLKM_NCHRDEV 87
#define CLKM_NEXECS 4

/* The device and execution switches, in a second low arena (as sysent: modules compiled
 * -fno-pic or -mcmodel=kernel reach them). */
struct clkm_ddata {
  struct clkm_bdevsw bdevsw[CLKM_NBLKDEV];
  struct clkm_cdevsw cdevsw[CLKM_NCHRDEV];
  struct clkm_execsw execsw[CLKM_NEXECS];
  int nblkdev;
  int nchrdev;
  int nexecs;
  int exec_maxhdrsz;
};
extern struct clkm_ddata *clkm_dd;

#endif
