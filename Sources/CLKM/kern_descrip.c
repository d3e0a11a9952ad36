/* Descriptor tables and open files (OpenBSD's kern_descrip.c): each process's table of struct
 * file pointers, the files' references (a descriptor holds one, a system call using the file
 * another, so that a close during a sleeping read frees nothing under it), and close(2),
 * fcntl(2), fstat(2). What a file does is its fileops' (vfs_vnops.c for vnodes). Written
 * against the module headers (kern_local.h). */
#include "kern_local.h"

static LIST_HEAD(filelist, file) filehead = LIST_HEAD_INITIALIZER(filehead);
static int nfiles;
#define MAX_FILES 65536

static void *kalloc(size_t size) {
  int saved = clkm_current_module;
  clkm_current_module = -1;
  void *p = malloc(size, M_TEMP, M_NOWAIT | M_ZERO);
  clkm_current_module = saved;
  return p;
}

static void kfree(void *p) { free(p, M_TEMP); }

/* Whether fp is an open file of the kernel's (a module may hand the kernel anything). */
static int live(struct file *fp) {
  struct file *f;
  if (fp == NULL) return 0;
  LIST_FOREACH(f, &filehead, f_list) {
    if (f == fp) return 1;
  }
  return 0;
}

int fdinit(struct proc *p) {
  struct filedesc *fdp = kalloc(sizeof *fdp);
  if (fdp == NULL) return ENOMEM;
  fdp->fd_ofiles = kalloc(NDFILE * sizeof(struct file *));
  fdp->fd_ofileflags = kalloc(NDFILE);
  if (fdp->fd_ofiles == NULL || fdp->fd_ofileflags == NULL) {
    if (fdp->fd_ofiles) kfree(fdp->fd_ofiles);
    if (fdp->fd_ofileflags) kfree(fdp->fd_ofileflags);
    kfree(fdp);
    return ENOMEM;
  }
  fdp->fd_nfiles = NDFILE;
  fdp->fd_lastfile = -1;
  fdp->fd_cmask = 022;
  fdp->fd_refcnt = 1;
  p->p_fd = fdp;
  return 0;
}

/* Each file keeps the path it was opened as, after the struct (for the oopses of calls made
 * for it: "d_read of cdevsw[11] (read of /dev/fault)"). */
#define FILE_PATH_MAX 96

char *file_path(struct file *fp) { return (char *)(fp + 1); }

/* A new file with one reference (the caller's), not in any table yet. */
int falloc_file(struct proc *p, struct file **resultfp) {
  if (nfiles >= MAX_FILES) return ENFILE;
  struct file *fp = kalloc(sizeof *fp + FILE_PATH_MAX);
  if (fp == NULL) return ENFILE;
  fp->f_count = 1;
  fp->f_cred = NULL;
  (void)p;
  LIST_INSERT_HEAD(&filehead, fp, f_list);
  nfiles++;
  *resultfp = fp;
  return 0;
}

/* The lowest free descriptor, the table grown if needed: 0 with *result, or EMFILE. */
static int fdalloc(struct filedesc *fdp, int *result) {
  for (int i = 0; i < fdp->fd_nfiles; i++) {
    if (fdp->fd_ofiles[i] == NULL) {
      *result = i;
      return 0;
    }
  }
  if (fdp->fd_nfiles >= NDFILE_MAX) return EMFILE;
  int n = fdp->fd_nfiles * 2;
  if (n > NDFILE_MAX) n = NDFILE_MAX;
  struct file **files = kalloc(n * sizeof(struct file *));
  char *flags = kalloc(n);
  if (files == NULL || flags == NULL) {
    if (files) kfree(files);
    if (flags) kfree(flags);
    return ENOMEM;
  }
  memcpy(files, fdp->fd_ofiles, fdp->fd_nfiles * sizeof(struct file *));
  memcpy(flags, fdp->fd_ofileflags, fdp->fd_nfiles);
  kfree(fdp->fd_ofiles);
  kfree(fdp->fd_ofileflags);
  *result = fdp->fd_nfiles;
  fdp->fd_ofiles = files;
  fdp->fd_ofileflags = flags;
  fdp->fd_nfiles = n;
  return 0;
}

/* A descriptor for fp in p's table (fp gets the descriptor's reference: the caller's own
 * reference stays the caller's). */
int fd_install(struct proc *p, struct file *fp, int *fdout) {
  struct filedesc *fdp = p->p_fd;
  if (fdp == NULL) return EBADF;
  int fd, error = fdalloc(fdp, &fd);
  if (error) return error;
  fdp->fd_ofiles[fd] = fp;
  fdp->fd_ofileflags[fd] = 0;
  if (fd > fdp->fd_lastfile) fdp->fd_lastfile = fd;
  fp->f_count++;
  *fdout = fd;
  return 0;
}

struct file *fd_getfile(struct filedesc *fdp, int fd) {
  if (fdp == NULL || fd < 0 || fd >= fdp->fd_nfiles) return NULL;
  return fdp->fd_ofiles[fd];
}

void FREF(struct file *fp) {
  if (!live(fp)) clkm_guard_panic("FREF: not an open file", __builtin_return_address(0));
  fp->f_count++;
}

/* The last reference gone: the file's close (fo_close) and it is freed. */
static int closef(struct file *fp, struct proc *p) {
  int error = 0;
  if (fp->f_ops != NULL && fp->f_ops->fo_close != NULL) error = fp->f_ops->fo_close(fp, p);
  LIST_REMOVE(fp, f_list);
  nfiles--;
  kfree(fp);
  return error;
}

/* Drops a reference the kernel holds. */
int frele(struct file *fp, struct proc *p) {
  if (--fp->f_count > 0) return 0;
  return closef(fp, p);
}

/* FRELE for modules: the file must be one of the kernel's, with a reference to drop. */
int FRELE(struct file *fp, struct proc *p) {
  if (!live(fp)) clkm_guard_panic("FRELE: not an open file", __builtin_return_address(0));
  if (fp->f_count <= 0) clkm_guard_panic("FRELE: no references", __builtin_return_address(0));
  return frele(fp, p);
}

/* The file of descriptor fd with a reference for the caller (FRELE when done), or NULL. */
struct file *fd_ref(struct proc *p, int fd) {
  struct file *fp = fd_getfile(p->p_fd, fd);
  if (fp != NULL) fp->f_count++;
  return fp;
}

int getvnode(struct proc *p, int fd, struct file **fpp) {
  struct file *fp = fd_ref(p, fd);
  if (fp == NULL) return EBADF;
  if (fp->f_type != DTYPE_VNODE) {
    frele(fp, p);
    return EINVAL;
  }
  *fpp = fp;
  return 0;
}

/* Takes descriptor fd out of p's table and drops its reference. */
static int fdrelease(struct proc *p, int fd) {
  struct filedesc *fdp = p->p_fd;
  struct file *fp = fd_getfile(fdp, fd);
  if (fp == NULL) return EBADF;
  fdp->fd_ofiles[fd] = NULL;
  fdp->fd_ofileflags[fd] = 0;
  while (fdp->fd_lastfile >= 0 && fdp->fd_ofiles[fdp->fd_lastfile] == NULL) fdp->fd_lastfile--;
  return frele(fp, p);
}

/* Closes every descriptor and frees the table (the process has gone). */
void fdfree(struct proc *p) {
  struct filedesc *fdp = p->p_fd;
  if (fdp == NULL) return;
  for (int fd = 0; fd <= fdp->fd_lastfile; fd++) {
    if (fdp->fd_ofiles[fd] != NULL) (void)fdrelease(p, fd);
  }
  p->p_fd = NULL;
  kfree(fdp->fd_ofiles);
  kfree(fdp->fd_ofileflags);
  kfree(fdp);
}

/* How many files are open in the kernel (all processes). */
int clkm_open_file_count(void) { return nfiles; }

/* ---- System calls ---- */

int sys_close(struct proc *p, void *v, register_t *retval) {
  struct sys_close_args *uap = v;
  (void)retval;
  return fdrelease(p, SCARG(uap, fd));
}

int sys_fstat(struct proc *p, void *v, register_t *retval) {
  struct sys_fstat_args *uap = v;
  (void)retval;
  struct file *fp = fd_ref(p, SCARG(uap, fd));
  if (fp == NULL) return EBADF;
  struct stat ub;
  memset(&ub, 0, sizeof ub);
  int error = fp->f_ops->fo_stat(fp, &ub, p);
  frele(fp, p);
  if (error == 0) error = copyout(&ub, SCARG(uap, sb), sizeof ub);
  return error;
}

#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define FD_CLOEXEC 1

int sys_fcntl(struct proc *p, void *v, register_t *retval) {
  struct sys_fcntl_args *uap = v;
  struct filedesc *fdp = p->p_fd;
  int fd = SCARG(uap, fd);
  struct file *fp = fd_getfile(fdp, fd);
  if (fp == NULL) return EBADF;
  long arg = (long)SCARG(uap, arg);
  switch (SCARG(uap, cmd)) {
  case F_DUPFD: {
    int newfd, error;
    if (arg < 0 || arg >= NDFILE_MAX) return EINVAL;
    if ((error = fd_install(p, fp, &newfd)) != 0) return error;
    retval[0] = newfd;
    return 0;
  }
  case F_GETFD:
    retval[0] = fdp->fd_ofileflags[fd] & FD_CLOEXEC;
    return 0;
  case F_SETFD:
    fdp->fd_ofileflags[fd] = (char)(arg & FD_CLOEXEC);
    return 0;
  case F_GETFL:
    retval[0] = OFLAGS(fp->f_flag);
    return 0;
  case F_SETFL:
    fp->f_flag &= ~(O_NONBLOCK | O_APPEND);
    fp->f_flag |= FFLAGS(arg) & (O_NONBLOCK | O_APPEND);
    return 0;
  default:
    return EINVAL;
  }
}

size_t clkm_descrip_exports(clkm_export_t *table, size_t room) {
  CLKM_EXPORTS(table, room, CLKM_FUNC("fd_getfile", fd_getfile), CLKM_FUNC("FREF", FREF),
               CLKM_FUNC("FRELE", FRELE), CLKM_FUNC("getvnode", getvnode));
}
