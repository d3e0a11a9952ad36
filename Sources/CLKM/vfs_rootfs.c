/* The root file system: the kernel's own, in memory, mounted at boot on "/" (the root vnode).
 * It holds directories and device special files (/dev and its nodes: console, null, zero,
 * lkm), made and removed with mkdir(2), rmdir(2), mknod(2), unlink(2) and rename(2); it has
 * no regular files (EROFS). A directory that mount(2) makes on demand for a mount point (a
 * path whose parent is here, this kernel's convenience) goes again when it is unmounted, if
 * empty. It is written as a file system module would be: a vnode operations table through
 * vfs_opv_init, getnewvnode, the lookup protocol of OpenBSD 5.2 (kern_local.h). */
#include "kern_local.h"

int vfs_domount(void *r, struct vnode *covered, const char *path, int flags, struct mount **mp);
void *vfs_rec_kernel(struct vfsconf *vfc);
void vfs_opv_init_kernel(struct vnodeopv_desc *vfs);
extern struct vnode *rootvnode;

#define MAX_NODES 65536

struct rnode {
  TAILQ_ENTRY(rnode) sibling;
  TAILQ_HEAD(, rnode) children; /* a directory's, oldest first */
  struct rnode *parent;
  struct vnode *vp; /* the vnode while one exists */
  enum vtype type;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  dev_t rdev;
  ino_t ino;
  nlink_t nlink;
  int nchildren;
  int automount; /* made by mount(2) for a mount point */
  struct timespec atime, mtime, ctime;
  char name[MAXNAMLEN + 1];
};

static struct rnode *root;
static struct mount *rootmount;
static int nnodes;
static ino_t next_ino = 2;

static int (**rootfs_vnodeop_p)(void *);
static int (**rootfs_specop_p)(void *);

#define VTORN(vp) ((struct rnode *)(vp)->v_data)

static void *kalloc(size_t size) {
  int saved = clkm_current_module;
  clkm_current_module = -1;
  void *p = malloc(size, M_TEMP, M_NOWAIT | M_ZERO);
  clkm_current_module = saved;
  return p;
}

static struct rnode *node_new(struct rnode *dir, const char *name, size_t len, enum vtype type,
                              mode_t mode, dev_t rdev) {
  if (nnodes >= MAX_NODES) return NULL;
  struct rnode *n = kalloc(sizeof *n);
  if (n == NULL) return NULL;
  TAILQ_INIT(&n->children);
  n->type = type;
  n->mode = mode & ALLPERMS;
  struct proc *p = clkm_current_proc();
  n->uid = p != NULL ? p->p_uid : 0;
  n->gid = 0;
  n->rdev = rdev;
  n->ino = next_ino++;
  n->nlink = type == VDIR ? 2 : 1;
  nanotime(&n->mtime);
  n->atime = n->ctime = n->mtime;
  memcpy(n->name, name, len);
  n->name[len] = 0;
  n->parent = dir != NULL ? dir : n;
  if (dir != NULL) {
    TAILQ_INSERT_TAIL(&dir->children, n, sibling);
    dir->nchildren++;
    if (type == VDIR) dir->nlink++;
    dir->mtime = dir->ctime = n->mtime;
  }
  nnodes++;
  return n;
}

static void node_unlink(struct rnode *n) {
  struct rnode *dir = n->parent;
  TAILQ_REMOVE(&dir->children, n, sibling);
  dir->nchildren--;
  if (n->type == VDIR) dir->nlink--;
  nanotime(&dir->mtime);
  dir->ctime = dir->mtime;
  n->nlink = 0;
  n->parent = n;
}

static void node_free(struct rnode *n) {
  nnodes--;
  free(n, M_TEMP);
}

static struct rnode *node_find(struct rnode *dir, const char *name, size_t len) {
  struct rnode *n;
  TAILQ_FOREACH(n, &dir->children, sibling) {
    if (strlen(n->name) == len && memcmp(n->name, name, len) == 0) return n;
  }
  return NULL;
}

/* The vnode of n, referenced (and counted locked), made if it has none. */
static int node_vget(struct rnode *n, struct vnode **vpp) {
  if (n->vp != NULL) {
    int error = vget(n->vp, LK_EXCLUSIVE, clkm_current_proc());
    if (error == 0) {
      *vpp = n->vp;
      return 0;
    }
  }
  struct vnode *vp;
  int special = n->type == VCHR || n->type == VBLK;
  int error = getnewvnode(VT_VFS, rootmount, special ? rootfs_specop_p : rootfs_vnodeop_p, &vp);
  if (error) return error;
  vp->v_type = n->type;
  vp->v_data = n;
  if (n == root) vp->v_flag |= VROOT;
  if (special) checkalias(vp, n->rdev, rootmount);
  vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, clkm_current_proc());
  n->vp = vp;
  *vpp = vp;
  return 0;
}

/* ---- Vnode operations ---- */

static int rootfs_lookup(void *v) {
  struct vop_lookup_args *ap = v;
  struct componentname *cnp = ap->a_cnp;
  struct vnode *dvp = ap->a_dvp;
  struct rnode *dir = VTORN(dvp);
  *ap->a_vpp = NULL;
  if (dir->type != VDIR) return ENOTDIR;
  int last = (cnp->cn_flags & ISLASTCN) != 0;
  int op = cnp->cn_nameiop;
  if (cnp->cn_namelen == 1 && cnp->cn_nameptr[0] == '.') {
    vref(dvp);
    *ap->a_vpp = dvp;
    return 0;
  }
  if (cnp->cn_flags & ISDOTDOT) return node_vget(dir->parent, ap->a_vpp);
  struct rnode *n = node_find(dir, cnp->cn_nameptr, (size_t)cnp->cn_namelen);
  if (n == NULL) {
    if (last && (op == CREATE || op == RENAME)) {
      cnp->cn_flags |= SAVENAME;
      return EJUSTRETURN;
    }
    return ENOENT;
  }
  return node_vget(n, ap->a_vpp);
}

static int rootfs_create(void *v) {
  struct vop_create_args *ap = v;
  vput(ap->a_dvp);
  return EROFS;
}

static int rootfs_mknod(void *v) {
  struct vop_mknod_args *ap = v;
  struct rnode *dir = VTORN(ap->a_dvp);
  struct componentname *cnp = ap->a_cnp;
  struct vattr *vap = ap->a_vap;
  int error = 0;
  if (vap->va_type != VCHR && vap->va_type != VBLK) error = EINVAL;
  else if (node_new(dir, cnp->cn_nameptr, (size_t)cnp->cn_namelen, vap->va_type, vap->va_mode,
                    vap->va_rdev) == NULL)
    error = ENOSPC;
  vput(ap->a_dvp);
  *ap->a_vpp = NULL;
  return error;
}

static int rootfs_mkdir(void *v) {
  struct vop_mkdir_args *ap = v;
  struct rnode *dir = VTORN(ap->a_dvp);
  struct componentname *cnp = ap->a_cnp;
  struct rnode *n =
      node_new(dir, cnp->cn_nameptr, (size_t)cnp->cn_namelen, VDIR, ap->a_vap->va_mode, 0);
  vput(ap->a_dvp);
  if (n == NULL) return ENOSPC;
  return node_vget(n, ap->a_vpp);
}

/* Frees the node of a vnode being reclaimed or a node unlinked with no vnode. */
static void node_release(struct rnode *n) {
  if (n->nlink == 0 && n->vp == NULL) node_free(n);
}

static int rootfs_remove(void *v) {
  struct vop_remove_args *ap = v;
  struct rnode *n = VTORN(ap->a_vp);
  int error = 0;
  if (n->type == VDIR) error = EPERM;
  else node_unlink(n);
  if (ap->a_dvp == ap->a_vp) vrele(ap->a_vp);
  else vput(ap->a_vp);
  vput(ap->a_dvp);
  return error;
}

static int rootfs_rmdir(void *v) {
  struct vop_rmdir_args *ap = v;
  struct rnode *n = VTORN(ap->a_vp);
  int error = 0;
  if (n->nchildren != 0) error = ENOTEMPTY;
  else if (n == root) error = EBUSY;
  else node_unlink(n);
  vput(ap->a_vp);
  vput(ap->a_dvp);
  return error;
}

static int rootfs_rename(void *v) {
  struct vop_rename_args *ap = v;
  struct rnode *from = VTORN(ap->a_fvp);
  struct rnode *todir = VTORN(ap->a_tdvp);
  struct componentname *tcnp = ap->a_tcnp;
  int error = 0;
  /* A directory moved under itself would leave the tree. */
  for (struct rnode *d = todir;; d = d->parent) {
    if (d == from) {
      error = EINVAL;
      break;
    }
    if (d == d->parent) break;
  }
  if (error == 0 && ap->a_tvp != NULL) {
    struct rnode *to = VTORN(ap->a_tvp);
    if (to->type == VDIR && to->nchildren != 0) error = ENOTEMPTY;
    else if (to->type == VDIR && to->vp != NULL && to->vp->v_mountedhere != NULL) error = EBUSY;
    else node_unlink(to);
  }
  if (error == 0) {
    node_unlink(from);
    from->nlink = from->type == VDIR ? 2 : 1;
    memcpy(from->name, tcnp->cn_nameptr, (size_t)tcnp->cn_namelen);
    from->name[tcnp->cn_namelen] = 0;
    from->parent = todir;
    TAILQ_INSERT_TAIL(&todir->children, from, sibling);
    todir->nchildren++;
    if (from->type == VDIR) todir->nlink++;
    nanotime(&from->ctime);
  }
  vrele(ap->a_fdvp);
  vrele(ap->a_fvp);
  if (ap->a_tvp != NULL) vput(ap->a_tvp);
  vput(ap->a_tdvp);
  return error;
}

static int rootfs_getattr(void *v) {
  struct vop_getattr_args *ap = v;
  struct rnode *n = VTORN(ap->a_vp);
  struct vattr *vap = ap->a_vap;
  vattr_null(vap);
  vap->va_type = n->type;
  vap->va_mode = n->mode;
  vap->va_nlink = n->nlink;
  vap->va_uid = n->uid;
  vap->va_gid = n->gid;
  vap->va_fsid = 0;
  vap->va_fileid = n->ino;
  vap->va_size = n->type == VDIR ? 512 : 0;
  vap->va_blocksize = 512;
  vap->va_atime = n->atime;
  vap->va_mtime = n->mtime;
  vap->va_ctime = n->ctime;
  vap->va_gen = 0;
  vap->va_flags = 0;
  vap->va_rdev = n->type == VCHR || n->type == VBLK ? n->rdev : (dev_t)VNOVAL;
  vap->va_bytes = 0;
  return 0;
}

static int rootfs_setattr(void *v) {
  struct vop_setattr_args *ap = v;
  struct rnode *n = VTORN(ap->a_vp);
  struct vattr *vap = ap->a_vap;
  struct proc *p = clkm_current_proc();
  if (vap->va_size != (u_int64_t)VNOVAL) return n->type == VDIR ? EISDIR : EROFS;
  if (vap->va_mode != (mode_t)VNOVAL) {
    if (p->p_uid != 0 && p->p_uid != n->uid) return EPERM;
    n->mode = vap->va_mode & ALLPERMS;
  }
  if (vap->va_uid != (uid_t)VNOVAL || vap->va_gid != (gid_t)VNOVAL) {
    if (p->p_uid != 0) return EPERM;
    if (vap->va_uid != (uid_t)VNOVAL) n->uid = vap->va_uid;
    if (vap->va_gid != (gid_t)VNOVAL) n->gid = vap->va_gid;
  }
  if (vap->va_mtime.tv_sec != VNOVAL) n->mtime = vap->va_mtime;
  if (vap->va_atime.tv_sec != VNOVAL) n->atime = vap->va_atime;
  nanotime(&n->ctime);
  return 0;
}

static int rootfs_access(void *v) {
  struct vop_access_args *ap = v;
  struct rnode *n = VTORN(ap->a_vp);
  return vaccess(n->type, n->mode, n->uid, n->gid, ap->a_mode, ap->a_cred);
}

static int rootfs_open(void *v) {
  (void)v;
  return 0;
}

static int rootfs_rw(void *v) {
  struct vop_read_args *ap = v;
  return ap->a_vp->v_type == VDIR ? EISDIR : EOPNOTSUPP;
}

static int rootfs_ioctl(void *v) {
  (void)v;
  return ENOTTY;
}

static int rootfs_poll(void *v) {
  struct vop_poll_args *ap = v;
  return ap->a_events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
}

/* struct dirent records: ".", "..", then the children, the offset counting entries. */
static int rootfs_readdir(void *v) {
  struct vop_readdir_args *ap = v;
  struct rnode *dir = VTORN(ap->a_vp);
  struct uio *uio = ap->a_uio;
  if (dir->type != VDIR) return ENOTDIR;
  off_t index = 0, start = uio->uio_offset;
  struct dirent d;
  int error = 0;
  struct rnode *child = TAILQ_FIRST(&dir->children);
  for (index = 0; index < dir->nchildren + 2; index++) {
    if (index >= 3 && child != NULL) child = TAILQ_NEXT(child, sibling);
    if (index < start) continue;
    memset(&d, 0, sizeof d);
    if (index == 0) {
      d.d_fileno = dir->ino;
      d.d_type = DT_DIR;
      strlcpy(d.d_name, ".", sizeof d.d_name);
    } else if (index == 1) {
      d.d_fileno = dir->parent->ino;
      d.d_type = DT_DIR;
      strlcpy(d.d_name, "..", sizeof d.d_name);
    } else {
      struct rnode *n = child;
      d.d_fileno = n->ino;
      d.d_type = n->type == VDIR ? DT_DIR : n->type == VCHR ? DT_CHR : DT_BLK;
      strlcpy(d.d_name, n->name, sizeof d.d_name);
    }
    d.d_namlen = (u_int8_t)strlen(d.d_name);
    d.d_reclen = (u_int16_t)DIRENT_RECSIZE(d.d_namlen);
    d.d_off = index + 1;
    if (uio->uio_resid < d.d_reclen) break;
    if ((error = uiomove(&d, d.d_reclen, uio)) != 0) break;
    uio->uio_offset = index + 1;
  }
  if (ap->a_eofflag != NULL) *ap->a_eofflag = index >= dir->nchildren + 2;
  return error;
}

static int rootfs_inactive(void *v) {
  struct vop_inactive_args *ap = v;
  VOP_UNLOCK(ap->a_vp, 0, ap->a_p);
  /* An unlinked node's vnode goes at once. */
  if (VTORN(ap->a_vp)->nlink == 0) vgone(ap->a_vp);
  return 0;
}

static int rootfs_reclaim(void *v) {
  struct vop_reclaim_args *ap = v;
  struct rnode *n = VTORN(ap->a_vp);
  if (n == NULL) return 0;
  n->vp = NULL;
  ap->a_vp->v_data = NULL;
  node_release(n);
  return 0;
}

static int rootfs_symlink(void *v) {
  struct vop_symlink_args *ap = v;
  vput(ap->a_dvp);
  return EROFS;
}

static int rootfs_link(void *v) {
  struct vop_link_args *ap = v;
  vput(ap->a_dvp);
  return EROFS;
}

static int rootfs_pathconf(void *v) {
  struct vop_pathconf_args *ap = v;
  *ap->a_retval = 0;
  return EINVAL;
}

static struct vnodeopv_entry_desc rootfs_vnodeop_entries[] = {
    {&vop_default_desc, vn_default_error},
    {&vop_lookup_desc, rootfs_lookup},
    {&vop_create_desc, rootfs_create},
    {&vop_mknod_desc, rootfs_mknod},
    {&vop_open_desc, rootfs_open},
    {&vop_close_desc, rootfs_open},
    {&vop_access_desc, rootfs_access},
    {&vop_getattr_desc, rootfs_getattr},
    {&vop_setattr_desc, rootfs_setattr},
    {&vop_read_desc, rootfs_rw},
    {&vop_write_desc, rootfs_rw},
    {&vop_ioctl_desc, rootfs_ioctl},
    {&vop_poll_desc, rootfs_poll},
    {&vop_fsync_desc, rootfs_open},
    {&vop_remove_desc, rootfs_remove},
    {&vop_link_desc, rootfs_link},
    {&vop_rename_desc, rootfs_rename},
    {&vop_mkdir_desc, rootfs_mkdir},
    {&vop_rmdir_desc, rootfs_rmdir},
    {&vop_symlink_desc, rootfs_symlink},
    {&vop_readdir_desc, rootfs_readdir},
    {&vop_abortop_desc, vop_generic_abortop},
    {&vop_inactive_desc, rootfs_inactive},
    {&vop_reclaim_desc, rootfs_reclaim},
    {&vop_lock_desc, vop_generic_lock},
    {&vop_unlock_desc, vop_generic_unlock},
    {&vop_islocked_desc, vop_generic_islocked},
    {&vop_pathconf_desc, rootfs_pathconf},
    {&vop_revoke_desc, vop_generic_revoke},
    {NULL, NULL}};
static struct vnodeopv_desc rootfs_vnodeop_opv_desc = {&rootfs_vnodeop_p, rootfs_vnodeop_entries};

/* Device nodes: the driver for I/O, the node for attributes. */
static struct vnodeopv_entry_desc rootfs_specop_entries[] = {
    {&vop_default_desc, vn_default_error},
    {&vop_lookup_desc, rootfs_lookup},
    {&vop_open_desc, spec_open},
    {&vop_close_desc, spec_close},
    {&vop_access_desc, rootfs_access},
    {&vop_getattr_desc, rootfs_getattr},
    {&vop_setattr_desc, rootfs_setattr},
    {&vop_read_desc, spec_read},
    {&vop_write_desc, spec_write},
    {&vop_ioctl_desc, spec_ioctl},
    {&vop_poll_desc, spec_poll},
    {&vop_fsync_desc, spec_fsync},
    {&vop_inactive_desc, rootfs_inactive},
    {&vop_reclaim_desc, rootfs_reclaim},
    {&vop_lock_desc, vop_generic_lock},
    {&vop_unlock_desc, vop_generic_unlock},
    {&vop_islocked_desc, vop_generic_islocked},
    {&vop_abortop_desc, vop_generic_abortop},
    {&vop_revoke_desc, vop_generic_revoke},
    {NULL, NULL}};
static struct vnodeopv_desc rootfs_specop_opv_desc = {&rootfs_specop_p, rootfs_specop_entries};

/* ---- The file system ---- */

static int rootfs_vfs_mount(struct mount *mp, const char *path, void *data,
                            struct nameidata *ndp, struct proc *p) {
  (void)path;
  (void)data;
  (void)ndp;
  (void)p;
  mp->mnt_data = root;
  return 0;
}

static int rootfs_vfs_root(struct mount *mp, struct vnode **vpp) {
  (void)mp;
  return node_vget(root, vpp);
}

static int rootfs_vfs_statfs(struct mount *mp, struct statfs *sbp, struct proc *p) {
  (void)mp;
  (void)p;
  sbp->f_files = MAX_NODES;
  sbp->f_ffree = sbp->f_favail = MAX_NODES - nnodes;
  return 0;
}

static struct vfsops rootfs_vfsops = {
    rootfs_vfs_mount, NULL, NULL, rootfs_vfs_root, NULL, rootfs_vfs_statfs, NULL, NULL, NULL,
    NULL,             NULL, NULL, NULL};
static struct vfsconf rootfs_vfsconf = {&rootfs_vfsops, "rootfs", 0, 0, 0, NULL, 0};


/* Makes the root: "/", "/dev" and the built-in device nodes, mounted as the root vnode. */
int clkm_rootfs_init(void) {
  vfs_opv_init_kernel(&rootfs_vnodeop_opv_desc);
  vfs_opv_init_kernel(&rootfs_specop_opv_desc);
  root = node_new(NULL, "", 0, VDIR, 0755, 0);
  if (root == NULL) return ENOMEM;
  struct rnode *dev = node_new(root, "dev", 3, VDIR, 0755, 0);
  if (dev == NULL) return ENOMEM;
  static const struct {
    const char *name;
    int major, minor;
    mode_t mode;
  } nodes[] = {{"console", 0, 0, 0600}, {"null", 2, 2, 0666}, {"zero", 2, 12, 0666},
               {"lkm", 28, 0, 0640}};
  for (size_t i = 0; i < nitems(nodes); i++) {
    if (node_new(dev, nodes[i].name, strlen(nodes[i].name), VCHR, nodes[i].mode,
                 makedev(nodes[i].major, nodes[i].minor)) == NULL)
      return ENOMEM;
  }
  void *type = vfs_rec_kernel(&rootfs_vfsconf);
  if (type == NULL) return ENOMEM;
  int error = vfs_domount(type, NULL, "/", 0, &rootmount);
  if (error) return error;
  struct vnode *vp;
  if ((error = node_vget(root, &vp)) != 0) return error;
  VOP_UNLOCK(vp, 0, clkm_current_proc());
  rootvnode = vp; /* the kernel's reference, for good */
  return 0;
}

/* Whether vp is a directory of the root file system (mount(2) may make a mount point in it). */
int rootfs_is_dir(struct vnode *vp) {
  return vp != NULL && vp->v_mount == rootmount && vp->v_type == VDIR && VTORN(vp) != NULL;
}

/* Marks the directory vp as made for a mount point. */
void rootfs_mark_automount(struct vnode *vp, int on) {
  if (vp->v_mount == rootmount && VTORN(vp) != NULL) VTORN(vp)->automount = on;
}

int rootfs_is_automount(struct vnode *vp) {
  return vp->v_mount == rootmount && VTORN(vp) != NULL && VTORN(vp)->automount;
}
