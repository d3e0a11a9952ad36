/* Open files that are vnodes (OpenBSD's vfs_vnops.c): vn_open (namei, VOP_CREATE with O_CREAT,
 * the checks, VOP_OPEN, O_TRUNC), and the file operations of a vnode file: read and write
 * (VOP_READ, VOP_WRITE at the file's offset), ioctl, poll, stat (VOP_GETATTR into struct
 * stat), close (VOP_CLOSE, then the reference goes). Written against the module headers
 * (kern_local.h). */
#include "kern_local.h"

int vnode_rdev(struct vnode *vp, dev_t *rdev);

int falloc_file(struct proc *p, struct file **resultfp);
int fd_install(struct proc *p, struct file *fp, int *fdout);
int frele(struct file *fp, struct proc *p);
char *file_path(struct file *fp);
struct mount *vnode_mount(struct vnode *vp);
void vfs_set_context(const char *what);

static int vn_read(struct file *fp, off_t *poff, struct uio *uio, struct ucred *cred) {
  struct vnode *vp = fp->f_data;
  if (vp->v_type == VDIR) return EISDIR;
  uio->uio_offset = *poff;
  size_t count = uio->uio_resid;
  vn_lock(vp, LK_SHARED | LK_RETRY, clkm_current_proc());
  int error = VOP_READ(vp, uio, (fp->f_flag & FNONBLOCK) ? IO_NDELAY : 0, cred);
  VOP_UNLOCK(vp, 0, clkm_current_proc());
  *poff += (off_t)(count - uio->uio_resid);
  return error;
}

static int vn_write(struct file *fp, off_t *poff, struct uio *uio, struct ucred *cred) {
  struct vnode *vp = fp->f_data;
  int ioflag = IO_UNIT;
  if (vp->v_type == VREG && (fp->f_flag & O_APPEND)) ioflag |= IO_APPEND;
  if (fp->f_flag & FNONBLOCK) ioflag |= IO_NDELAY;
  uio->uio_offset = *poff;
  size_t count = uio->uio_resid;
  vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, clkm_current_proc());
  int error = VOP_WRITE(vp, uio, ioflag, cred);
  VOP_UNLOCK(vp, 0, clkm_current_proc());
  if (ioflag & IO_APPEND) *poff = uio->uio_offset;
  else *poff += (off_t)(count - uio->uio_resid);
  return error;
}

static int vn_ioctl(struct file *fp, u_long com, caddr_t data, struct proc *p) {
  struct vnode *vp = fp->f_data;
  switch (vp->v_type) {
  case VREG:
  case VDIR:
    if (com == FIONREAD) {
      struct vattr va;
      int error = VOP_GETATTR(vp, &va, fp->f_cred, p);
      if (error) return error;
      *(int *)data = (int)((off_t)va.va_size - fp->f_offset);
      return 0;
    }
    if (com == FIONBIO || com == FIOASYNC) return 0;
    return ENOTTY;
  case VCHR:
  case VBLK:
    return VOP_IOCTL(vp, com, data, fp->f_flag, fp->f_cred, p);
  default:
    return ENOTTY;
  }
}

static int vn_poll(struct file *fp, int events, struct proc *p) {
  return VOP_POLL(fp->f_data, events, p);
}

static int vn_kqfilter(struct file *fp, struct knote *kn) {
  (void)fp;
  (void)kn;
  return EOPNOTSUPP;
}

/* struct stat of vp, from VOP_GETATTR. */
int vn_stat(struct vnode *vp, struct stat *sb, struct proc *p) {
  struct vattr va;
  vattr_null(&va);
  int error = VOP_GETATTR(vp, &va, NULL, p);
  if (error) return error;
  memset(sb, 0, sizeof *sb);
  mode_t mode = va.va_mode == (mode_t)VNOVAL ? 0 : va.va_mode & ALLPERMS;
  enum vtype type = va.va_type != VNON && (int)va.va_type != VNOVAL ? va.va_type : vp->v_type;
  switch (type) {
  case VREG: mode |= S_IFREG; break;
  case VDIR: mode |= S_IFDIR; break;
  case VBLK: mode |= S_IFBLK; break;
  case VCHR: mode |= S_IFCHR; break;
  case VLNK: mode |= S_IFLNK; break;
  case VSOCK: mode |= S_IFSOCK; break;
  case VFIFO: mode |= S_IFIFO; break;
  default: return EBADF;
  }
  sb->st_mode = mode;
  sb->st_dev = va.va_fsid == VNOVAL ? 0 : (dev_t)va.va_fsid;
  sb->st_ino = va.va_fileid == (ino_t)VNOVAL ? 0 : va.va_fileid;
  sb->st_nlink = va.va_nlink == (nlink_t)VNOVAL ? 1 : va.va_nlink;
  sb->st_uid = va.va_uid == (uid_t)VNOVAL ? 0 : va.va_uid;
  sb->st_gid = va.va_gid == (gid_t)VNOVAL ? 0 : va.va_gid;
  sb->st_rdev = va.va_rdev == (dev_t)VNOVAL ? NODEV : va.va_rdev;
  if (va.va_atime.tv_sec != VNOVAL) sb->st_atim = va.va_atime;
  if (va.va_mtime.tv_sec != VNOVAL) sb->st_mtim = va.va_mtime;
  if (va.va_ctime.tv_sec != VNOVAL) sb->st_ctim = va.va_ctime;
  sb->st_size = va.va_size == (u_int64_t)VNOVAL ? 0 : (off_t)va.va_size;
  sb->st_blksize = va.va_blocksize == VNOVAL ? 512 : (int32_t)va.va_blocksize;
  sb->st_blocks = va.va_bytes == (u_int64_t)VNOVAL ? 0 : (int64_t)((va.va_bytes + 511) / 512);
  sb->st_flags = va.va_flags == (u_long)VNOVAL ? 0 : (u_int32_t)va.va_flags;
  sb->st_gen = 0;
  return 0;
}

static int vn_fstat(struct file *fp, struct stat *sb, struct proc *p) {
  return vn_stat(fp->f_data, sb, p);
}

/* The last reference to an open vnode file: VOP_CLOSE, then the vnode's reference goes. */
int vn_close(struct vnode *vp, int flags, struct ucred *cred, struct proc *p) {
  if (flags & FWRITE && vp->v_writecount > 0) vp->v_writecount--;
  vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, p);
  int error = VOP_CLOSE(vp, flags, cred, p);
  vput(vp);
  return error;
}

static int vn_closefile(struct file *fp, struct proc *p) {
  struct vnode *vp = fp->f_data;
  fp->f_data = NULL;
  if (vp == NULL) return 0;
  return vn_close(vp, fp->f_flag, fp->f_cred, p);
}

struct fileops vnops = {vn_read, vn_write, vn_ioctl, vn_poll, vn_kqfilter, vn_fstat, vn_closefile};

/* open(2)'s work on a vnode (OpenBSD's vn_open): ndp looked up (or created with O_CREAT and
 * cmode), checked for fmode (FREAD, FWRITE, O_TRUNC...), opened. ndp->ni_vp comes back
 * referenced and locked. */
int vn_open(struct nameidata *ndp, int fmode, int cmode) {
  struct proc *p = ndp->ni_cnd.cn_proc;
  struct vnode *vp;
  struct vattr va;
  int error;
  if ((fmode & (FREAD | FWRITE)) == 0) return EINVAL;
  if ((fmode & (O_TRUNC | FWRITE)) == O_TRUNC) return EINVAL;
  if (fmode & O_CREAT) {
    ndp->ni_cnd.cn_nameiop = CREATE;
    ndp->ni_cnd.cn_flags = LOCKPARENT | LOCKLEAF;
    if (!(fmode & O_EXCL)) ndp->ni_cnd.cn_flags |= FOLLOW;
    if ((error = namei(ndp)) != 0) return error;
    if (ndp->ni_vp == NULL) {
      vattr_null(&va);
      va.va_type = VREG;
      va.va_mode = cmode & ~(p->p_fd != NULL ? p->p_fd->fd_cmask : 022) & ALLPERMS;
      error = VOP_CREATE(ndp->ni_dvp, &ndp->ni_vp, &ndp->ni_cnd, &va);
      ndp->ni_dvp = NULL; /* VOP_CREATE released it */
      if (error == 0 && ndp->ni_vp == NULL) error = EIO;
      if (error) {
        ndp->ni_vp = NULL;
        return error;
      }
      fmode &= ~O_TRUNC;
      vp = ndp->ni_vp;
    } else {
      VOP_ABORTOP(ndp->ni_dvp, &ndp->ni_cnd);
      if (ndp->ni_dvp == ndp->ni_vp) vrele(ndp->ni_dvp);
      else vput(ndp->ni_dvp);
      ndp->ni_dvp = NULL;
      vp = ndp->ni_vp;
      if (fmode & O_EXCL) {
        error = EEXIST;
        goto bad;
      }
      fmode &= ~O_CREAT;
    }
  } else {
    ndp->ni_cnd.cn_nameiop = LOOKUP;
    ndp->ni_cnd.cn_flags = FOLLOW | LOCKLEAF;
    if ((error = namei(ndp)) != 0) return error;
    vp = ndp->ni_vp;
  }
  if (vp->v_type == VSOCK) {
    error = EOPNOTSUPP;
    goto bad;
  }
  if (vp->v_type == VLNK) {
    error = ELOOP;
    goto bad;
  }
  /* The kernel's open of /dev/lkm for modload, modunload or modstat: the supervisor granted
   * the device to that session, which is the permission (the node's mode is for processes
   * that open it themselves). */
  dev_t rdev;
  int granted = clkm_device_request() && vp->v_type == VCHR && vnode_rdev(vp, &rdev) == 0 &&
                major(rdev) == 28;
  if ((fmode & O_CREAT) == 0 && !granted) {
    if (fmode & FREAD) {
      if ((error = VOP_ACCESS(vp, VREAD, NULL, p)) != 0 && error != EOPNOTSUPP) goto bad;
    }
    if (fmode & FWRITE) {
      if (vp->v_type == VDIR) {
        error = EISDIR;
        goto bad;
      }
      if ((error = VOP_ACCESS(vp, VWRITE, NULL, p)) != 0 && error != EOPNOTSUPP) goto bad;
    }
  }
  if ((fmode & O_TRUNC) && vp->v_type == VREG) {
    vattr_null(&va);
    va.va_size = 0;
    if ((error = VOP_SETATTR(vp, &va, NULL, p)) != 0) goto bad;
  }
  if ((error = VOP_OPEN(vp, fmode, NULL, p)) != 0) goto bad;
  if (fmode & FWRITE) vp->v_writecount++;
  return 0;
bad:
  vput(vp);
  ndp->ni_vp = NULL;
  return error;
}

/* ---- open(2) ---- */

int sys_open(struct proc *p, void *v, register_t *retval) {
  struct sys_open_args *uap = v;
  int flags = SCARG(uap, flags);
  if ((flags & O_ACCMODE) == O_ACCMODE) return EINVAL;
  int fmode = FFLAGS(flags);
  struct file *fp;
  int error = falloc_file(p, &fp);
  if (error) return error;
  size_t done;
  if (copyinstr(SCARG(uap, path), file_path(fp), 96, &done) == ENAMETOOLONG)
    strlcpy(file_path(fp) + 92, "...", 4);
  char context[128];
  snprintf(context, sizeof context, "open of %s", file_path(fp));
  vfs_set_context(context);
  struct nameidata nd;
  NDINIT(&nd, LOOKUP, FOLLOW, UIO_USERSPACE, SCARG(uap, path), p);
  if ((error = vn_open(&nd, fmode, SCARG(uap, mode))) != 0) {
    frele(fp, p);
    return error;
  }
  struct vnode *vp = nd.ni_vp;
  VOP_UNLOCK(vp, 0, p);
  fp->f_flag = (short)(fmode & (FREAD | FWRITE | O_APPEND | O_NONBLOCK));
  fp->f_type = DTYPE_VNODE;
  fp->f_ops = &vnops;
  fp->f_data = vp;
  int fd;
  error = fd_install(p, fp, &fd);
  frele(fp, p); /* the table holds it now, or it is closed */
  if (error) return error;
  retval[0] = fd;
  return 0;
}
