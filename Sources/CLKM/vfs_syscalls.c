/* The path and file system calls of OpenBSD's vfs_syscalls.c: mount, unmount, getfsstat,
 * statfs, link, symlink, unlink, rename, mkdir, rmdir, mknod, access, stat, lstat, readlink,
 * chmod, chown, utimes, truncate, ftruncate, fsync, lseek, getdents. Each looks names up with
 * namei and calls the vnode operations with OpenBSD 5.2's reference and lock protocol.
 * Written against the module headers (kern_local.h). */
#include "kern_local.h"

struct vfs_rec;
struct vfs_rec *vfs_rec_byname(const char *name);
int vfs_domount(struct vfs_rec *r, struct vnode *covered, const char *path, int flags,
                struct mount **result);
int vfs_dounmount(struct mount *mp, int flags);
int vfs_statfs(struct mount *mp, struct statfs *sbp);
int vfs_mount_list(struct mount **list, int max);
struct mount *vnode_mount(struct vnode *vp);
struct vnode *vfs_covered(struct mount *mp);
int vn_stat(struct vnode *vp, struct stat *sb, struct proc *p);
int rootfs_is_dir(struct vnode *vp);
void rootfs_mark_automount(struct vnode *vp, int on);
int rootfs_is_automount(struct vnode *vp);
void namei_free_buffer(struct componentname *cnp);
int getvnode(struct proc *p, int fd, struct file **fpp);
int frele(struct file *fp, struct proc *p);
char *file_path(struct file *fp);
void vfs_set_context(const char *what);
extern struct vnode *rootvnode;

/* For the oopses of calls made under this system call: "mkdir of /mem/d". */
static void context(const char *call, const char *upath) {
  char path[96], text[128];
  size_t done;
  if (copyinstr(upath, path, sizeof path, &done) != 0) strlcpy(path, "?", sizeof path);
  snprintf(text, sizeof text, "%s of %s", call, path);
  vfs_set_context(text);
}

/* Releases what a CREATE, DELETE or RENAME lookup left (after an error before the operation). */
static void abort_lookup(struct nameidata *nd) {
  if (nd->ni_dvp != NULL) {
    VOP_ABORTOP(nd->ni_dvp, &nd->ni_cnd);
    if (nd->ni_dvp == nd->ni_vp) vrele(nd->ni_dvp);
    else if (nd->ni_cnd.cn_flags & PDIRUNLOCK) vrele(nd->ni_dvp);
    else vput(nd->ni_dvp);
    nd->ni_dvp = NULL;
  }
  if (nd->ni_vp != NULL) {
    vput(nd->ni_vp);
    nd->ni_vp = NULL;
  }
  namei_free_buffer(&nd->ni_cnd);
}

/* ---- Mounting ---- */

/* mount(2): type is a registered file system; path an existing directory, or (this kernel's
 * convenience) a new name in a directory of the root file system, made for the mount and gone
 * again when it is unmounted. */
int sys_mount(struct proc *p, void *v, register_t *retval) {
  struct sys_mount_args *uap = v;
  (void)retval;
  char type[MFSNAMELEN], path[MNAMELEN];
  size_t done;
  int error = copyinstr(SCARG(uap, type), type, sizeof type, &done);
  if (error) return error == ENAMETOOLONG ? EOPNOTSUPP : error;
  if ((error = copyinstr(SCARG(uap, path), path, sizeof path, &done)) != 0) return error;
  if (p->p_uid != 0) return EPERM;
  struct vfs_rec *r = vfs_rec_byname(type);
  if (r == NULL) return EOPNOTSUPP;
  context("mount", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, FOLLOW | LOCKLEAF, UIO_SYSSPACE, path, p);
  int made = 0;
  if ((error = namei(&nd)) == ENOENT) {
    /* A new mount point in a directory of the root file system. */
    struct nameidata cnd;
    NDINIT(&cnd, CREATE, LOCKPARENT, UIO_SYSSPACE, path, p);
    /* Only the root file system makes mount points: elsewhere the path does not exist (a
     * read-only file system's EROFS for the create is not the answer). */
    if ((error = namei(&cnd)) != 0) return error == EROFS ? ENOENT : error;
    if (cnd.ni_vp != NULL || !rootfs_is_dir(cnd.ni_dvp)) {
      abort_lookup(&cnd);
      return ENOENT;
    }
    struct vattr va;
    vattr_null(&va);
    va.va_type = VDIR;
    va.va_mode = 0755;
    error = VOP_MKDIR(cnd.ni_dvp, &cnd.ni_vp, &cnd.ni_cnd, &va);
    namei_free_buffer(&cnd.ni_cnd);
    if (error) return error;
    rootfs_mark_automount(cnd.ni_vp, 1);
    nd.ni_vp = cnd.ni_vp; /* referenced and locked */
    made = 1;
    error = 0;
  }
  if (error) return error;
  struct vnode *vp = nd.ni_vp;
  if (vp->v_type != VDIR) error = ENOTDIR;
  else if ((vp->v_flag & VROOT) || vp->v_mountedhere != NULL) error = EBUSY;
  if (error) {
    vput(vp);
    return error;
  }
  VOP_UNLOCK(vp, 0, p);
  struct mount *mp;
  error = vfs_domount(r, vp, path, SCARG(uap, flags), &mp); /* keeps vp's reference */
  if (error) {
    if (made) {
      /* The directory made for it goes again. */
      rootfs_mark_automount(vp, 0);
      struct nameidata rnd;
      vrele(vp);
      NDINIT(&rnd, DELETE, LOCKPARENT | LOCKLEAF, UIO_SYSSPACE, path, p);
      if (namei(&rnd) == 0) {
        if (rnd.ni_vp->v_mountedhere == NULL) VOP_RMDIR(rnd.ni_dvp, rnd.ni_vp, &rnd.ni_cnd);
        else abort_lookup(&rnd);
        namei_free_buffer(&rnd.ni_cnd);
      }
    } else {
      vrele(vp);
    }
  }
  return error;
}

int sys_unmount(struct proc *p, void *v, register_t *retval) {
  struct sys_unmount_args *uap = v;
  (void)retval;
  if (p->p_uid != 0) return EPERM;
  context("unmount", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, FOLLOW | LOCKLEAF, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  struct vnode *vp = nd.ni_vp;
  struct mount *mp = vnode_mount(vp);
  /* Only the root of a file system can be unmounted; the root itself cannot. */
  if (!(vp->v_flag & VROOT) || mp == NULL || vp == rootvnode) {
    vput(vp);
    return EINVAL;
  }
  vput(vp);
  struct vnode *covered = vfs_covered(mp);
  int automount = covered != NULL && rootfs_is_automount(covered);
  char path[MNAMELEN];
  strlcpy(path, mp->mnt_stat.f_mntonname, sizeof path);
  if (covered != NULL) vref(covered);
  error = vfs_dounmount(mp, SCARG(uap, flags));
  if (error == 0 && automount && covered->v_mountedhere == NULL) {
    /* The mount point mount(2) made goes too, if empty. */
    vrele(covered);
    covered = NULL;
    NDINIT(&nd, DELETE, LOCKPARENT | LOCKLEAF, UIO_SYSSPACE, path, p);
    if (namei(&nd) == 0) {
      if (rootfs_is_automount(nd.ni_vp) && nd.ni_vp->v_mountedhere == NULL)
        (void)VOP_RMDIR(nd.ni_dvp, nd.ni_vp, &nd.ni_cnd);
      else
        abort_lookup(&nd);
      namei_free_buffer(&nd.ni_cnd);
    }
  }
  if (covered != NULL) vrele(covered);
  return error;
}

int sys_getfsstat(struct proc *p, void *v, register_t *retval) {
  struct sys_getfsstat_args *uap = v;
  (void)p;
  struct mount *list[256];
  int n = vfs_mount_list(list, 256);
  if (n > 256) n = 256;
  struct statfs *sfsp = SCARG(uap, buf);
  size_t room = sfsp == NULL ? 0 : SCARG(uap, bufsize) / sizeof(struct statfs);
  int count = 0;
  for (int i = 0; i < n; i++) {
    if (sfsp != NULL && (size_t)count < room) {
      struct statfs sb;
      if (vfs_statfs(list[i], &sb) != 0) continue;
      int error = copyout(&sb, sfsp + count, sizeof sb);
      if (error) return error;
    }
    count++;
  }
  retval[0] = sfsp != NULL && (size_t)count > room ? (register_t)room : count;
  return 0;
}

int sys_statfs(struct proc *p, void *v, register_t *retval) {
  struct sys_statfs_args *uap = v;
  (void)retval;
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, FOLLOW, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  struct mount *mp = vnode_mount(nd.ni_vp);
  vrele(nd.ni_vp);
  if (mp == NULL) return ENOENT;
  struct statfs sb;
  if ((error = vfs_statfs(mp, &sb)) != 0) return error;
  return copyout(&sb, SCARG(uap, buf), sizeof sb);
}

/* ---- Names ---- */

int sys_mkdir(struct proc *p, void *v, register_t *retval) {
  struct sys_mkdir_args *uap = v;
  (void)retval;
  context("mkdir", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, CREATE, LOCKPARENT | STRIPSLASHES, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  if (nd.ni_vp != NULL) {
    abort_lookup(&nd);
    return EEXIST;
  }
  struct vattr va;
  vattr_null(&va);
  va.va_type = VDIR;
  va.va_mode = (SCARG(uap, mode) & ACCESSPERMS) & ~(p->p_fd != NULL ? p->p_fd->fd_cmask : 022);
  error = VOP_MKDIR(nd.ni_dvp, &nd.ni_vp, &nd.ni_cnd, &va);
  if (error == 0 && nd.ni_vp != NULL) vput(nd.ni_vp);
  namei_free_buffer(&nd.ni_cnd);
  return error;
}

int sys_rmdir(struct proc *p, void *v, register_t *retval) {
  struct sys_rmdir_args *uap = v;
  (void)retval;
  context("rmdir", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, DELETE, LOCKPARENT | LOCKLEAF, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  struct vnode *vp = nd.ni_vp;
  if (vp->v_type != VDIR) error = ENOTDIR;
  else if (nd.ni_dvp == vp) error = EINVAL;
  else if ((vp->v_flag & VROOT) || vp->v_mountedhere != NULL) error = EBUSY;
  if (error) {
    abort_lookup(&nd);
    return error;
  }
  error = VOP_RMDIR(nd.ni_dvp, vp, &nd.ni_cnd);
  namei_free_buffer(&nd.ni_cnd);
  return error;
}

int sys_unlink(struct proc *p, void *v, register_t *retval) {
  struct sys_unlink_args *uap = v;
  (void)retval;
  context("unlink", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, DELETE, LOCKPARENT | LOCKLEAF, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  struct vnode *vp = nd.ni_vp;
  if (vp->v_type == VDIR) error = EPERM;
  else if (vp->v_flag & VROOT) error = EBUSY;
  if (error) {
    abort_lookup(&nd);
    return error;
  }
  error = VOP_REMOVE(nd.ni_dvp, vp, &nd.ni_cnd);
  namei_free_buffer(&nd.ni_cnd);
  return error;
}

int sys_mknod(struct proc *p, void *v, register_t *retval) {
  struct sys_mknod_args *uap = v;
  (void)retval;
  if (p->p_uid != 0) return EPERM;
  context("mknod", SCARG(uap, path));
  mode_t mode = SCARG(uap, mode);
  enum vtype type;
  switch (mode & S_IFMT) {
  case S_IFCHR: type = VCHR; break;
  case S_IFBLK: type = VBLK; break;
  default: return EINVAL;
  }
  struct nameidata nd;
  NDINIT(&nd, CREATE, LOCKPARENT, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  if (nd.ni_vp != NULL) {
    abort_lookup(&nd);
    return EEXIST;
  }
  struct vattr va;
  vattr_null(&va);
  va.va_type = type;
  va.va_mode = mode & ALLPERMS;
  va.va_rdev = SCARG(uap, dev);
  error = VOP_MKNOD(nd.ni_dvp, &nd.ni_vp, &nd.ni_cnd, &va);
  if (error == 0 && nd.ni_vp != NULL) vput(nd.ni_vp);
  namei_free_buffer(&nd.ni_cnd);
  return error;
}

int sys_link(struct proc *p, void *v, register_t *retval) {
  struct sys_link_args *uap = v;
  (void)retval;
  context("link", SCARG(uap, link));
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, FOLLOW, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  struct vnode *vp = nd.ni_vp;
  if (vp->v_type == VDIR) {
    vrele(vp);
    return EPERM;
  }
  NDINIT(&nd, CREATE, LOCKPARENT, UIO_USERSPACE, SCARG(uap, link), p);
  if ((error = namei(&nd)) != 0) {
    vrele(vp);
    return error;
  }
  if (nd.ni_vp != NULL) error = EEXIST;
  else if (vnode_mount(nd.ni_dvp) != vnode_mount(vp)) error = EXDEV;
  if (error) {
    abort_lookup(&nd);
    vrele(vp);
    return error;
  }
  error = VOP_LINK(nd.ni_dvp, vp, &nd.ni_cnd);
  namei_free_buffer(&nd.ni_cnd);
  vrele(vp);
  return error;
}

int sys_symlink(struct proc *p, void *v, register_t *retval) {
  struct sys_symlink_args *uap = v;
  (void)retval;
  context("symlink", SCARG(uap, link));
  int saved = clkm_current_module;
  clkm_current_module = -1;
  char *target = malloc(MAXPATHLEN, M_TEMP, M_WAITOK);
  clkm_current_module = saved;
  size_t done;
  int error = copyinstr(SCARG(uap, path), target, MAXPATHLEN, &done);
  if (error) {
    free(target, M_TEMP);
    return error;
  }
  struct nameidata nd;
  NDINIT(&nd, CREATE, LOCKPARENT, UIO_USERSPACE, SCARG(uap, link), p);
  if ((error = namei(&nd)) != 0) {
    free(target, M_TEMP);
    return error;
  }
  if (nd.ni_vp != NULL) {
    abort_lookup(&nd);
    free(target, M_TEMP);
    return EEXIST;
  }
  struct vattr va;
  vattr_null(&va);
  va.va_type = VLNK;
  va.va_mode = ACCESSPERMS & ~(p->p_fd != NULL ? p->p_fd->fd_cmask : 022);
  error = VOP_SYMLINK(nd.ni_dvp, &nd.ni_vp, &nd.ni_cnd, &va, target);
  if (error == 0 && nd.ni_vp != NULL) vput(nd.ni_vp);
  namei_free_buffer(&nd.ni_cnd);
  free(target, M_TEMP);
  return error;
}

/* rename(2): within one file system (EXDEV across), a directory only over an empty directory,
 * a file only over a file; renaming a name to itself does nothing. */
int sys_rename(struct proc *p, void *v, register_t *retval) {
  struct sys_rename_args *uap = v;
  (void)retval;
  context("rename", SCARG(uap, from));
  struct nameidata fromnd, tond;
  NDINIT(&fromnd, DELETE, WANTPARENT | SAVESTART, UIO_USERSPACE, SCARG(uap, from), p);
  int error = namei(&fromnd);
  if (error) return error;
  struct vnode *fvp = fromnd.ni_vp;
  NDINIT(&tond, RENAME, LOCKPARENT | LOCKLEAF | NOCACHE | SAVESTART, UIO_USERSPACE,
         SCARG(uap, to), p);
  if ((error = namei(&tond)) != 0) {
    abort_lookup(&fromnd);
    return error;
  }
  struct vnode *tdvp = tond.ni_dvp, *tvp = tond.ni_vp;
  if (tvp != NULL) {
    if (fvp->v_type == VDIR && tvp->v_type != VDIR) error = ENOTDIR;
    else if (fvp->v_type != VDIR && tvp->v_type == VDIR) error = EISDIR;
    else if ((tvp->v_flag & VROOT) || tvp->v_mountedhere != NULL) error = EBUSY;
  }
  if (error == 0 && (fvp->v_flag & VROOT)) error = EBUSY;
  if (error == 0 && fvp == tdvp) error = EINVAL;
  if (error == 0 && (vnode_mount(fvp) != vnode_mount(tdvp) ||
                     (tvp != NULL && vnode_mount(fvp) != vnode_mount(tvp))))
    error = EXDEV;
  /* The same file under the same name, or two names of one file: nothing to do. */
  int same = fvp == tvp;
  if (error || same) {
    abort_lookup(&tond);
    abort_lookup(&fromnd);
    return error;
  }
  error = VOP_RENAME(fromnd.ni_dvp, fvp, &fromnd.ni_cnd, tdvp, tvp, &tond.ni_cnd);
  namei_free_buffer(&fromnd.ni_cnd);
  namei_free_buffer(&tond.ni_cnd);
  return error;
}

/* ---- Attributes ---- */

static int stat1(struct proc *p, const char *upath, struct stat *ub, int follow) {
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, follow | LOCKLEAF, UIO_USERSPACE, upath, p);
  int error = namei(&nd);
  if (error) return error;
  struct stat sb;
  error = vn_stat(nd.ni_vp, &sb, p);
  vput(nd.ni_vp);
  if (error) return error;
  return copyout(&sb, ub, sizeof sb);
}

int sys_stat(struct proc *p, void *v, register_t *retval) {
  struct sys_stat_args *uap = v;
  (void)retval;
  context("stat", SCARG(uap, path));
  return stat1(p, SCARG(uap, path), SCARG(uap, ub), FOLLOW);
}

int sys_lstat(struct proc *p, void *v, register_t *retval) {
  struct sys_lstat_args *uap = v;
  (void)retval;
  context("lstat", SCARG(uap, path));
  return stat1(p, SCARG(uap, path), SCARG(uap, ub), NOFOLLOW);
}

int sys_access(struct proc *p, void *v, register_t *retval) {
  struct sys_access_args *uap = v;
  (void)retval;
  int amode = SCARG(uap, amode);
  if (amode & ~7) return EINVAL;
  context("access", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, FOLLOW | LOCKLEAF, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  int flags = 0;
  if (amode & 4) flags |= VREAD;
  if (amode & 2) flags |= VWRITE;
  if (amode & 1) flags |= VEXEC;
  if (flags) {
    error = VOP_ACCESS(nd.ni_vp, flags, NULL, p);
    if (error == EOPNOTSUPP) error = 0;
  }
  vput(nd.ni_vp);
  return error;
}

int sys_readlink(struct proc *p, void *v, register_t *retval) {
  struct sys_readlink_args *uap = v;
  context("readlink", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, NOFOLLOW | LOCKLEAF, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  struct vnode *vp = nd.ni_vp;
  size_t count = SCARG(uap, count);
  if (vp->v_type != VLNK) {
    error = EINVAL;
  } else {
    struct iovec iov = {SCARG(uap, buf), count};
    struct uio uio = {&iov, 1, 0, count, UIO_USERSPACE, UIO_READ, p};
    error = VOP_READLINK(vp, &uio, NULL);
    retval[0] = (register_t)(count - uio.uio_resid);
  }
  vput(vp);
  return error;
}

/* VOP_SETATTR on a path's vnode (chmod, chown, utimes, truncate). */
static int setattr_path(struct proc *p, const char *upath, struct vattr *va, int follow) {
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, follow | LOCKLEAF, UIO_USERSPACE, upath, p);
  int error = namei(&nd);
  if (error) return error;
  error = VOP_SETATTR(nd.ni_vp, va, NULL, p);
  vput(nd.ni_vp);
  return error;
}

int sys_chmod(struct proc *p, void *v, register_t *retval) {
  struct sys_chmod_args *uap = v;
  (void)retval;
  context("chmod", SCARG(uap, path));
  struct vattr va;
  vattr_null(&va);
  va.va_mode = SCARG(uap, mode) & ALLPERMS;
  return setattr_path(p, SCARG(uap, path), &va, FOLLOW);
}

int sys_chown(struct proc *p, void *v, register_t *retval) {
  struct sys_chown_args *uap = v;
  (void)retval;
  context("chown", SCARG(uap, path));
  struct vattr va;
  vattr_null(&va);
  va.va_uid = SCARG(uap, uid);
  va.va_gid = SCARG(uap, gid);
  return setattr_path(p, SCARG(uap, path), &va, FOLLOW);
}

int sys_utimes(struct proc *p, void *v, register_t *retval) {
  struct sys_utimes_args *uap = v;
  (void)retval;
  context("utimes", SCARG(uap, path));
  struct vattr va;
  vattr_null(&va);
  struct timeval tv[2];
  if (SCARG(uap, tptr) == NULL) {
    struct timespec now;
    nanotime(&now);
    va.va_atime = va.va_mtime = now;
    va.va_vaflags |= VA_UTIMES_NULL;
  } else {
    int error = copyin(SCARG(uap, tptr), tv, sizeof tv);
    if (error) return error;
    va.va_atime.tv_sec = tv[0].tv_sec;
    va.va_atime.tv_nsec = tv[0].tv_usec * 1000;
    va.va_mtime.tv_sec = tv[1].tv_sec;
    va.va_mtime.tv_nsec = tv[1].tv_usec * 1000;
  }
  return setattr_path(p, SCARG(uap, path), &va, FOLLOW);
}

int sys_truncate(struct proc *p, void *v, register_t *retval) {
  struct sys_truncate_args *uap = v;
  (void)retval;
  if (SCARG(uap, length) < 0) return EINVAL;
  context("truncate", SCARG(uap, path));
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, FOLLOW | LOCKLEAF, UIO_USERSPACE, SCARG(uap, path), p);
  int error = namei(&nd);
  if (error) return error;
  struct vnode *vp = nd.ni_vp;
  if (vp->v_type == VDIR) error = EISDIR;
  else if ((error = VOP_ACCESS(vp, VWRITE, NULL, p)) == 0 || error == EOPNOTSUPP) {
    struct vattr va;
    vattr_null(&va);
    va.va_size = (u_int64_t)SCARG(uap, length);
    error = VOP_SETATTR(vp, &va, NULL, p);
  }
  vput(vp);
  return error;
}

/* ---- Descriptors that are vnodes ---- */

static void fcontext(const char *call, struct file *fp) {
  char text[128];
  snprintf(text, sizeof text, "%s of %s", call, file_path(fp));
  vfs_set_context(text);
}

int sys_ftruncate(struct proc *p, void *v, register_t *retval) {
  struct sys_ftruncate_args *uap = v;
  (void)retval;
  if (SCARG(uap, length) < 0) return EINVAL;
  struct file *fp;
  int error = getvnode(p, SCARG(uap, fd), &fp);
  if (error) return error;
  fcontext("ftruncate", fp);
  struct vnode *vp = fp->f_data;
  if ((fp->f_flag & FWRITE) == 0) error = EINVAL;
  else if (vp->v_type == VDIR) error = EISDIR;
  else {
    struct vattr va;
    vattr_null(&va);
    va.va_size = (u_int64_t)SCARG(uap, length);
    vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, p);
    error = VOP_SETATTR(vp, &va, fp->f_cred, p);
    VOP_UNLOCK(vp, 0, p);
  }
  frele(fp, p);
  return error;
}

int sys_fsync(struct proc *p, void *v, register_t *retval) {
  struct sys_fsync_args *uap = v;
  (void)retval;
  struct file *fp;
  int error = getvnode(p, SCARG(uap, fd), &fp);
  if (error) return error;
  fcontext("fsync", fp);
  struct vnode *vp = fp->f_data;
  vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, p);
  error = VOP_FSYNC(vp, fp->f_cred, 1, p);
  if (error == EOPNOTSUPP) error = 0;
  VOP_UNLOCK(vp, 0, p);
  frele(fp, p);
  return error;
}

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

int sys_lseek(struct proc *p, void *v, register_t *retval) {
  struct sys_lseek_args *uap = v;
  struct file *fp;
  int error = getvnode(p, SCARG(uap, fd), &fp);
  if (error) return error == EINVAL ? ESPIPE : error;
  struct vnode *vp = fp->f_data;
  off_t offset = SCARG(uap, offset), base = 0;
  if (vp->v_type == VFIFO) {
    frele(fp, p);
    return ESPIPE;
  }
  switch (SCARG(uap, whence)) {
  case SEEK_SET: base = 0; break;
  case SEEK_CUR: base = fp->f_offset; break;
  case SEEK_END: {
    struct vattr va;
    vattr_null(&va);
    if ((error = VOP_GETATTR(vp, &va, fp->f_cred, p)) != 0) {
      frele(fp, p);
      return error;
    }
    base = (off_t)va.va_size;
    break;
  }
  default:
    frele(fp, p);
    return EINVAL;
  }
  off_t to = base + offset;
  if ((offset > 0 && to < base) || (to < 0 && vp->v_type != VCHR)) {
    frele(fp, p);
    return EINVAL;
  }
  fp->f_offset = to;
  retval[0] = to;
  frele(fp, p);
  return 0;
}

/* getdents(2): struct dirent records from the directory's offset; returns the bytes given. */
int sys_getdents(struct proc *p, void *v, register_t *retval) {
  struct sys_getdents_args *uap = v;
  struct file *fp;
  int error = getvnode(p, SCARG(uap, fd), &fp);
  if (error) return error;
  fcontext("getdents", fp);
  struct vnode *vp = fp->f_data;
  size_t count = SCARG(uap, buflen);
  if ((fp->f_flag & FREAD) == 0) error = EBADF;
  else if (vp->v_type != VDIR) error = ENOTDIR;
  else if (count < sizeof(struct dirent) - MAXNAMLEN - 1 + 8) error = EINVAL;
  if (error) {
    frele(fp, p);
    return error;
  }
  struct iovec iov = {SCARG(uap, buf), count};
  struct uio uio = {&iov, 1, fp->f_offset, count, UIO_USERSPACE, UIO_READ, p};
  int eof = 0;
  vn_lock(vp, LK_SHARED | LK_RETRY, p);
  error = VOP_READDIR(vp, &uio, fp->f_cred, &eof, NULL, NULL);
  VOP_UNLOCK(vp, 0, p);
  if (uio.uio_resid > count) {
    error = EIO;
    uio.uio_resid = count;
  }
  fp->f_offset = uio.uio_offset;
  retval[0] = (register_t)(count - uio.uio_resid);
  frele(fp, p);
  return error;
}
