/* Vnodes and mounts (OpenBSD's vfs_subr.c), and the vnode operations' dispatch (vnode_if.c):
 * getnewvnode, vget, vref, vrele, vput, vgone, vflush; the mount list, mounting and
 * unmounting a file system (its vfsops, guarded); VOP_*() through a vnode's vector; the
 * generic operations file systems put in their tables. Written against the module headers
 * (kern_local.h).
 *
 * Vnodes are the kernel's: a file system writes v_type, v_data, v_flag and v_op, but every
 * vnode it hands back is looked up among the live ones before the kernel follows it, and a
 * vector is called only if the kernel built it (vfs_init.c). An operation whose function is
 * module code runs guarded, on behalf of that module (a fault is its oops and EFAULT); the
 * kernel's own functions (vop_generic_*, spec_*, the root file system's) are called directly. */
#include "kern_local.h"

struct vfs_rec;
struct vfs_rec *vfs_rec_byname(const char *name);
int vfs_rec_info(struct vfs_rec *r, struct vfsops **ops, struct vfsconf **vfc, int *module,
                 const char **name);
void vfs_rec_mounted(struct vfs_rec *r, int delta);
int vfs_vector_known(int (**vector)(void *), int *module);
const char *vfs_op_name(int offset);
void vfs_opv_init_kernel(struct vnodeopv_desc *vfs);

/* ---- Records ---- */

struct kmount;

struct kvnode {
  struct vnode v; /* what file systems see; first */
  LIST_ENTRY(kvnode) hash;
  TAILQ_ENTRY(kvnode) mntlist;  /* the mount's vnodes (or the orphans) */
  TAILQ_ENTRY(kvnode) freelist; /* unreferenced vnodes, oldest first */
  struct kmount *km;            /* NULL once orphaned (its mount went while in use) */
  struct specinfo spec;         /* v_specinfo of a device vnode */
  int onfree;
  int dead;                     /* vgone'd: its file system is done with it */
  int reclaiming;               /* in VOP_RECLAIM (a vgone from there does nothing more) */
};

struct kmount {
  struct mount m; /* what the file system sees; first */
  LIST_ENTRY(kmount) list;
  TAILQ_HEAD(, kvnode) vnodes;
  int nvnodes;
  struct vfs_rec *vfs;
  int module;            /* the file system's module; -1 the kernel's */
  int ready;             /* vfs_mount returned 0 */
  struct vnode *covered; /* the kernel's copy of mnt_vnodecovered */
  char path[MNAMELEN];   /* the kernel's copy of f_mntonname */
  char type[MFSNAMELEN];
};

static LIST_HEAD(, kmount) mounts = LIST_HEAD_INITIALIZER(mounts);
static TAILQ_HEAD(, kvnode) freelist = TAILQ_HEAD_INITIALIZER(freelist);
static TAILQ_HEAD(, kvnode) orphans = TAILQ_HEAD_INITIALIZER(orphans);
#define VHASH 1024
static LIST_HEAD(, kvnode) vhash[VHASH];
static int numvnodes, numfree;
#define MAXVNODES 65536
/* Free vnodes kept for reuse before the kernel reclaims the oldest. */
#define FREE_KEEP 4096

struct vnode *rootvnode;

static unsigned vbucket(const void *p) { return (unsigned)(((unsigned long)p >> 4) % VHASH); }

/* The kernel's record of vp, or NULL if vp is not a live vnode. */
struct kvnode *vnode_record(const struct vnode *vp) {
  struct kvnode *kv;
  if (vp == NULL) return NULL;
  LIST_FOREACH(kv, &vhash[vbucket(vp)], hash) {
    if (&kv->v == vp) return kv;
  }
  return NULL;
}

static int live_mount(const struct mount *mp, struct kmount **out) {
  struct kmount *km;
  LIST_FOREACH(km, &mounts, list) {
    if (&km->m == mp) {
      *out = km;
      return 1;
    }
  }
  return 0;
}

static void *kalloc(size_t size) {
  int saved = clkm_current_module;
  clkm_current_module = -1;
  void *p = malloc(size, M_TEMP, M_NOWAIT | M_ZERO);
  clkm_current_module = saved;
  return p;
}

__dead static void misuse(const char *fmt, const void *what) {
  char message[160];
  snprintf(message, sizeof message, fmt, what);
  clkm_guard_panic(message, __builtin_return_address(1));
}

/* The vnode vp must be live (a module may hand the kernel anything): its record, or a panic of
 * the calling module. */
static struct kvnode *checked(struct vnode *vp, const char *who) {
  struct kvnode *kv = vnode_record(vp);
  if (kv == NULL) {
    char message[96];
    snprintf(message, sizeof message, "%s: %%p is not a vnode", who);
    misuse(message, vp);
  }
  return kv;
}

/* ---- Dead vnodes: what a vnode does once its file system is done with it ---- */

static int dead_badop(void *v) {
  (void)v;
  return EBADF;
}
static int dead_ok(void *v) {
  (void)v;
  return 0;
}
static int dead_lookup(void *v) {
  struct vop_lookup_args *ap = v;
  *ap->a_vpp = NULL;
  return ENOTDIR;
}
static int dead_rw(void *v) {
  (void)v;
  return EIO;
}
static int (**dead_vnodeop_p)(void *);
static struct vnodeopv_entry_desc dead_entries[] = {
    {&vop_default_desc, dead_badop}, {&vop_lookup_desc, dead_lookup},
    {&vop_read_desc, dead_rw},       {&vop_write_desc, dead_rw},
    {&vop_close_desc, dead_ok},      {&vop_inactive_desc, dead_ok},
    {&vop_reclaim_desc, dead_ok},    {&vop_lock_desc, dead_ok},
    {&vop_unlock_desc, dead_ok},     {&vop_islocked_desc, dead_ok},
    {&vop_abortop_desc, dead_ok},    {NULL, NULL}};
static struct vnodeopv_desc dead_opv = {&dead_vnodeop_p, dead_entries};

/* ---- Calling an operation ---- */

/* What the current request is about ("read of /f/file"), for oopses of operations under it. */
static __thread char request_context[96];

void vfs_set_context(const char *what) { strlcpy(request_context, what, sizeof request_context); }
const char *vfs_context(void) { return request_context; }

struct vcall {
  int (*fn)(void *);
  void *ap;
  int error;
};

static int vcall_thunk(void *v) {
  struct vcall *c = v;
  c->error = c->fn(c->ap);
  return 0;
}

/* fn(ap) for the operation at offset: directly if it is the kernel's, guarded on behalf of its
 * module if it is module code; EFAULT (with a line in the message buffer) if it is neither. */
static int call_op(int (*fn)(void *), void *ap, int offset, const char *fsname) {
  int callable;
  int owner = clkm_code_owner((void *)fn, &callable);
  if (!callable) {
    clkm_logf("lkm: %s of '%s' %p is not module code\n", vfs_op_name(offset), fsname,
              (void *)fn);
    return EFAULT;
  }
  if (owner < 0) return fn(ap);
  struct vcall c = {fn, ap, 0};
  char during[160];
  if (request_context[0])
    snprintf(during, sizeof during, "%s (%s)", request_context, vfs_op_name(offset));
  else
    snprintf(during, sizeof during, "%s", vfs_op_name(offset));
  clkm_set_activity(during);
  int error = clkm_module_call(owner, vcall_thunk, &c);
  return error ? error : c.error;
}

static const char *fs_name(const struct kvnode *kv) {
  return kv->km != NULL ? kv->km->type : "dead";
}

/* VCALL(vp, offset, ap), checked. */
static int vcall(struct vnode *vp, int offset, void *ap) {
  struct kvnode *kv = vnode_record(vp);
  if (kv == NULL) {
    if (clkm_guard_active()) misuse("VOP on %p, which is not a vnode", vp);
    clkm_logf("lkm: %s on %p, which is not a vnode\n", vfs_op_name(offset), (void *)vp);
    return EFAULT;
  }
  int (**vector)(void *) = kv->dead ? dead_vnodeop_p : vp->v_op;
  int vmodule;
  if (!vfs_vector_known(vector, &vmodule)) {
    clkm_logf("lkm: a vnode of '%s' has operations vector %p, which the kernel did not build\n",
              fs_name(kv), (void *)vector);
    return EFAULT;
  }
  int (*fn)(void *) = vector[offset];
  if (fn == NULL) return EOPNOTSUPP;
  if (vmodule == -1) return fn(ap); /* a vector of the kernel's own */
  return call_op(fn, ap, offset, fs_name(kv));
}

#define A(type) struct vop_##type##_args a = {.a_desc = VDESC(vop_##type)}

int VOP_ISLOCKED(struct vnode *vp) {
  A(islocked);
  a.a_vp = vp;
  return vcall(vp, VOFFSET(vop_islocked), &a);
}

int VOP_LOOKUP(struct vnode *dvp, struct vnode **vpp, struct componentname *cnp) {
  A(lookup);
  a.a_dvp = dvp;
  a.a_vpp = vpp;
  a.a_cnp = cnp;
  *vpp = NULL;
  return vcall(dvp, VOFFSET(vop_lookup), &a);
}

int VOP_CREATE(struct vnode *dvp, struct vnode **vpp, struct componentname *cnp,
               struct vattr *vap) {
  A(create);
  a.a_dvp = dvp;
  a.a_vpp = vpp;
  a.a_cnp = cnp;
  a.a_vap = vap;
  *vpp = NULL;
  return vcall(dvp, VOFFSET(vop_create), &a);
}

int VOP_MKNOD(struct vnode *dvp, struct vnode **vpp, struct componentname *cnp,
              struct vattr *vap) {
  A(mknod);
  a.a_dvp = dvp;
  a.a_vpp = vpp;
  a.a_cnp = cnp;
  a.a_vap = vap;
  *vpp = NULL;
  return vcall(dvp, VOFFSET(vop_mknod), &a);
}

int VOP_OPEN(struct vnode *vp, int mode, struct ucred *cred, struct proc *p) {
  A(open);
  a.a_vp = vp;
  a.a_mode = mode;
  a.a_cred = cred;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_open), &a);
}

int VOP_CLOSE(struct vnode *vp, int fflag, struct ucred *cred, struct proc *p) {
  A(close);
  a.a_vp = vp;
  a.a_fflag = fflag;
  a.a_cred = cred;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_close), &a);
}

int VOP_ACCESS(struct vnode *vp, int mode, struct ucred *cred, struct proc *p) {
  A(access);
  a.a_vp = vp;
  a.a_mode = mode;
  a.a_cred = cred;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_access), &a);
}

int VOP_GETATTR(struct vnode *vp, struct vattr *vap, struct ucred *cred, struct proc *p) {
  A(getattr);
  a.a_vp = vp;
  a.a_vap = vap;
  a.a_cred = cred;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_getattr), &a);
}

int VOP_SETATTR(struct vnode *vp, struct vattr *vap, struct ucred *cred, struct proc *p) {
  A(setattr);
  a.a_vp = vp;
  a.a_vap = vap;
  a.a_cred = cred;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_setattr), &a);
}

int VOP_READ(struct vnode *vp, struct uio *uio, int ioflag, struct ucred *cred) {
  A(read);
  a.a_vp = vp;
  a.a_uio = uio;
  a.a_ioflag = ioflag;
  a.a_cred = cred;
  return vcall(vp, VOFFSET(vop_read), &a);
}

int VOP_WRITE(struct vnode *vp, struct uio *uio, int ioflag, struct ucred *cred) {
  A(write);
  a.a_vp = vp;
  a.a_uio = uio;
  a.a_ioflag = ioflag;
  a.a_cred = cred;
  return vcall(vp, VOFFSET(vop_write), &a);
}

int VOP_IOCTL(struct vnode *vp, u_long command, void *data, int fflag, struct ucred *cred,
              struct proc *p) {
  A(ioctl);
  a.a_vp = vp;
  a.a_command = command;
  a.a_data = data;
  a.a_fflag = fflag;
  a.a_cred = cred;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_ioctl), &a);
}

int VOP_POLL(struct vnode *vp, int events, struct proc *p) {
  A(poll);
  a.a_vp = vp;
  a.a_events = events;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_poll), &a);
}

int VOP_KQFILTER(struct vnode *vp, struct knote *kn) {
  A(kqfilter);
  a.a_vp = vp;
  a.a_kn = kn;
  return vcall(vp, VOFFSET(vop_kqfilter), &a);
}

int VOP_REVOKE(struct vnode *vp, int flags) {
  A(revoke);
  a.a_vp = vp;
  a.a_flags = flags;
  return vcall(vp, VOFFSET(vop_revoke), &a);
}

int VOP_FSYNC(struct vnode *vp, struct ucred *cred, int waitfor, struct proc *p) {
  A(fsync);
  a.a_vp = vp;
  a.a_cred = cred;
  a.a_waitfor = waitfor;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_fsync), &a);
}

int VOP_REMOVE(struct vnode *dvp, struct vnode *vp, struct componentname *cnp) {
  A(remove);
  a.a_dvp = dvp;
  a.a_vp = vp;
  a.a_cnp = cnp;
  return vcall(dvp, VOFFSET(vop_remove), &a);
}

int VOP_LINK(struct vnode *dvp, struct vnode *vp, struct componentname *cnp) {
  A(link);
  a.a_dvp = dvp;
  a.a_vp = vp;
  a.a_cnp = cnp;
  return vcall(dvp, VOFFSET(vop_link), &a);
}

int VOP_RENAME(struct vnode *fdvp, struct vnode *fvp, struct componentname *fcnp,
               struct vnode *tdvp, struct vnode *tvp, struct componentname *tcnp) {
  A(rename);
  a.a_fdvp = fdvp;
  a.a_fvp = fvp;
  a.a_fcnp = fcnp;
  a.a_tdvp = tdvp;
  a.a_tvp = tvp;
  a.a_tcnp = tcnp;
  return vcall(fdvp, VOFFSET(vop_rename), &a);
}

int VOP_MKDIR(struct vnode *dvp, struct vnode **vpp, struct componentname *cnp,
              struct vattr *vap) {
  A(mkdir);
  a.a_dvp = dvp;
  a.a_vpp = vpp;
  a.a_cnp = cnp;
  a.a_vap = vap;
  *vpp = NULL;
  return vcall(dvp, VOFFSET(vop_mkdir), &a);
}

int VOP_RMDIR(struct vnode *dvp, struct vnode *vp, struct componentname *cnp) {
  A(rmdir);
  a.a_dvp = dvp;
  a.a_vp = vp;
  a.a_cnp = cnp;
  return vcall(dvp, VOFFSET(vop_rmdir), &a);
}

int VOP_SYMLINK(struct vnode *dvp, struct vnode **vpp, struct componentname *cnp,
                struct vattr *vap, char *target) {
  A(symlink);
  a.a_dvp = dvp;
  a.a_vpp = vpp;
  a.a_cnp = cnp;
  a.a_vap = vap;
  a.a_target = target;
  *vpp = NULL;
  return vcall(dvp, VOFFSET(vop_symlink), &a);
}

int VOP_READDIR(struct vnode *vp, struct uio *uio, struct ucred *cred, int *eofflag,
                int *ncookies, u_long **cookies) {
  A(readdir);
  a.a_vp = vp;
  a.a_uio = uio;
  a.a_cred = cred;
  a.a_eofflag = eofflag;
  a.a_ncookies = ncookies;
  a.a_cookies = cookies;
  return vcall(vp, VOFFSET(vop_readdir), &a);
}

int VOP_READLINK(struct vnode *vp, struct uio *uio, struct ucred *cred) {
  A(readlink);
  a.a_vp = vp;
  a.a_uio = uio;
  a.a_cred = cred;
  return vcall(vp, VOFFSET(vop_readlink), &a);
}

int VOP_ABORTOP(struct vnode *dvp, struct componentname *cnp) {
  A(abortop);
  a.a_dvp = dvp;
  a.a_cnp = cnp;
  return vcall(dvp, VOFFSET(vop_abortop), &a);
}

int VOP_INACTIVE(struct vnode *vp, struct proc *p) {
  A(inactive);
  a.a_vp = vp;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_inactive), &a);
}

int VOP_RECLAIM(struct vnode *vp, struct proc *p) {
  A(reclaim);
  a.a_vp = vp;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_reclaim), &a);
}

int VOP_LOCK(struct vnode *vp, int flags, struct proc *p) {
  A(lock);
  a.a_vp = vp;
  a.a_flags = flags;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_lock), &a);
}

int VOP_UNLOCK(struct vnode *vp, int flags, struct proc *p) {
  A(unlock);
  a.a_vp = vp;
  a.a_flags = flags;
  a.a_p = p;
  return vcall(vp, VOFFSET(vop_unlock), &a);
}

int VOP_BMAP(struct vnode *vp, daddr_t bn, struct vnode **vpp, daddr_t *bnp, int *runp) {
  A(bmap);
  a.a_vp = vp;
  a.a_bn = bn;
  a.a_vpp = vpp;
  a.a_bnp = bnp;
  a.a_runp = runp;
  return vcall(vp, VOFFSET(vop_bmap), &a);
}

int VOP_PRINT(struct vnode *vp) {
  A(print);
  a.a_vp = vp;
  return vcall(vp, VOFFSET(vop_print), &a);
}

int VOP_PATHCONF(struct vnode *vp, int name, register_t *retval) {
  A(pathconf);
  a.a_vp = vp;
  a.a_name = name;
  a.a_retval = retval;
  return vcall(vp, VOFFSET(vop_pathconf), &a);
}

int VOP_ADVLOCK(struct vnode *vp, void *id, int op, struct flock *fl, int flags) {
  A(advlock);
  a.a_vp = vp;
  a.a_id = id;
  a.a_op = op;
  a.a_fl = fl;
  a.a_flags = flags;
  return vcall(vp, VOFFSET(vop_advlock), &a);
}

int VOP_STRATEGY(struct buf *bp) {
  (void)bp;
  return EOPNOTSUPP;
}

int VOP_BWRITE(struct buf *bp) {
  (void)bp;
  return EOPNOTSUPP;
}

/* ---- Generic operations ---- */

int vn_default_error(void *v) {
  (void)v;
  return EOPNOTSUPP;
}

int vop_generic_islocked(void *v) {
  struct vop_islocked_args *ap = v;
  struct kvnode *kv = checked(ap->a_vp, "vop_generic_islocked");
  return kv->v.v_lockcount != 0;
}

int vop_generic_lock(void *v) {
  struct vop_lock_args *ap = v;
  struct kvnode *kv = checked(ap->a_vp, "vop_generic_lock");
  kv->v.v_lockcount++;
  return 0;
}

int vop_generic_unlock(void *v) {
  struct vop_unlock_args *ap = v;
  struct kvnode *kv = checked(ap->a_vp, "vop_generic_unlock");
  if (kv->v.v_lockcount > 0) kv->v.v_lockcount--;
  return 0;
}

/* Frees the path buffer a CREATE, DELETE or RENAME lookup kept (HASBUF). */
void namei_free_buffer(struct componentname *cnp) {
  if (cnp != NULL && (cnp->cn_flags & HASBUF) && cnp->cn_pnbuf != NULL) {
    free(cnp->cn_pnbuf, M_TEMP);
    cnp->cn_pnbuf = NULL;
    cnp->cn_flags &= ~HASBUF;
  }
}

int vop_generic_abortop(void *v) {
  struct vop_abortop_args *ap = v;
  namei_free_buffer(ap->a_cnp);
  return 0;
}

int vop_generic_bmap(void *v) {
  struct vop_bmap_args *ap = v;
  if (ap->a_vpp) *ap->a_vpp = ap->a_vp;
  if (ap->a_bnp) *ap->a_bnp = ap->a_bn;
  if (ap->a_runp) *ap->a_runp = 0;
  return 0;
}

int vop_generic_revoke(void *v) {
  struct vop_revoke_args *ap = v;
  vgone(ap->a_vp);
  return 0;
}

int vop_generic_kqfilter(void *v) {
  (void)v;
  return EOPNOTSUPP;
}

/* ---- Vnodes ---- */

static void free_vnode(struct kvnode *kv) {
  LIST_REMOVE(kv, hash);
  if (kv->onfree) {
    TAILQ_REMOVE(&freelist, kv, freelist);
    numfree--;
  }
  if (kv->km != NULL) {
    TAILQ_REMOVE(&kv->km->vnodes, kv, mntlist);
    kv->km->nvnodes--;
  } else {
    TAILQ_REMOVE(&orphans, kv, mntlist);
  }
  numvnodes--;
  free(kv, M_TEMP);
}

/* Takes kv out of use: VOP_RECLAIM (unless call_fs is 0: its module is gone), dead from now on.
 * Freed if no one holds it. */
static void reclaim(struct kvnode *kv, int call_fs) {
  if (kv->reclaiming) return; /* a vgone from the file system's own VOP_RECLAIM */
  if (!kv->dead) {
    /* VOP_RECLAIM goes to the file system's own vector: the vnode is not dead until after. */
    kv->reclaiming = 1;
    if (call_fs) (void)VOP_RECLAIM(&kv->v, clkm_current_proc());
    kv->reclaiming = 0;
    /* The file system's data and vector are no longer the vnode's. */
    kv->dead = 1;
    kv->v.v_data = NULL;
    kv->v.v_op = dead_vnodeop_p;
    kv->v.v_type = VBAD;
    kv->v.v_mountedhere = NULL;
  }
  if (kv->v.v_usecount == 0) free_vnode(kv);
}

/* Makes room for one more vnode: reclaims the oldest unreferenced one. */
static void recycle_one(void) {
  struct kvnode *kv = TAILQ_FIRST(&freelist);
  if (kv == NULL) return;
  reclaim(kv, 1);
}

int getnewvnode(enum vtagtype tag, struct mount *mp, int (**vops)(void *), struct vnode **vpp) {
  struct kmount *km;
  *vpp = NULL;
  if (mp == NULL || !live_mount(mp, &km)) {
    if (clkm_guard_active()) misuse("getnewvnode: %p is not a mount", mp);
    return EINVAL;
  }
  if (!vfs_vector_known(vops, NULL)) {
    if (clkm_guard_active()) misuse("getnewvnode: vector %p was not built by vfs_opv_init", vops);
    return EINVAL;
  }
  /* Unreferenced vnodes are kept for reuse, up to FREE_KEEP of them; past that, or at the
   * limit, the oldest is reclaimed. */
  if (numfree > FREE_KEEP || numvnodes >= MAXVNODES) recycle_one();
  if (numvnodes >= MAXVNODES) return ENFILE;
  struct kvnode *kv = kalloc(sizeof *kv);
  if (kv == NULL) return ENFILE;
  kv->v.v_op = vops;
  kv->v.v_type = VNON;
  kv->v.v_tag = tag;
  kv->v.v_mount = mp;
  kv->v.v_usecount = 1;
  kv->km = km;
  LIST_INSERT_HEAD(&vhash[vbucket(&kv->v)], kv, hash);
  TAILQ_INSERT_TAIL(&km->vnodes, kv, mntlist);
  km->nvnodes++;
  numvnodes++;
  *vpp = &kv->v;
  return 0;
}

void vref(struct vnode *vp) {
  struct kvnode *kv = checked(vp, "vref");
  if (kv->onfree) {
    TAILQ_REMOVE(&freelist, kv, freelist);
    numfree--;
    kv->onfree = 0;
  }
  vp->v_usecount++;
}

int vget(struct vnode *vp, int flags, struct proc *p) {
  struct kvnode *kv = checked(vp, "vget");
  if (kv->dead) return ENOENT;
  vref(vp);
  if (flags & LK_TYPE_MASK) {
    int error = vn_lock(vp, flags, p);
    if (error) {
      vrele(vp);
      return error;
    }
  }
  return 0;
}

void vrele(struct vnode *vp) {
  struct kvnode *kv = checked(vp, "vrele");
  if (vp->v_usecount == 0) misuse("vrele: %p has no references", vp);
  if (--vp->v_usecount > 0) return;
  if (kv->dead) {
    free_vnode(kv);
    return;
  }
  /* VOP_INACTIVE gets it locked and unlocks it. */
  (void)VOP_LOCK(vp, LK_EXCLUSIVE, clkm_current_proc());
  (void)VOP_INACTIVE(vp, clkm_current_proc());
  kv = vnode_record(vp); /* a file system may have vgone'd it */
  if (kv == NULL) return;
  if (vp->v_usecount > 0) return; /* referenced again by the file system */
  if (kv->dead) {
    free_vnode(kv);
    return;
  }
  TAILQ_INSERT_TAIL(&freelist, kv, freelist);
  numfree++;
  kv->onfree = 1;
}

void vput(struct vnode *vp) {
  checked(vp, "vput");
  (void)VOP_UNLOCK(vp, 0, clkm_current_proc());
  vrele(vp);
}

int vn_lock(struct vnode *vp, int flags, struct proc *p) {
  struct kvnode *kv = checked(vp, "vn_lock");
  if (kv->dead && !(flags & LK_RETRY)) return ENOENT;
  return VOP_LOCK(vp, flags, p);
}

void vgone(struct vnode *vp) {
  struct kvnode *kv = checked(vp, "vgone");
  if (kv->onfree) {
    TAILQ_REMOVE(&freelist, kv, freelist);
    numfree--;
    kv->onfree = 0;
  }
  reclaim(kv, 1);
}

void vattr_null(struct vattr *vap) {
  vap->va_type = VNON;
  vap->va_mode = VNOVAL;
  vap->va_nlink = VNOVAL;
  vap->va_uid = VNOVAL;
  vap->va_gid = VNOVAL;
  vap->va_fsid = VNOVAL;
  vap->va_fileid = VNOVAL;
  vap->va_size = VNOVAL;
  vap->va_blocksize = VNOVAL;
  vap->va_atime.tv_sec = vap->va_mtime.tv_sec = vap->va_ctime.tv_sec = VNOVAL;
  vap->va_atime.tv_nsec = vap->va_mtime.tv_nsec = vap->va_ctime.tv_nsec = VNOVAL;
  vap->va_gen = VNOVAL;
  vap->va_flags = VNOVAL;
  vap->va_rdev = VNOVAL;
  vap->va_bytes = VNOVAL;
  vap->va_filerev = VNOVAL;
  vap->va_vaflags = 0;
}

/* OpenBSD's vaccess: the owner's, group's or others' bits; root may do anything but execute a
 * file no one may execute. cred is unused here: the process's uid decides. */
int vaccess(enum vtype type, mode_t file_mode, uid_t uid, gid_t gid, mode_t acc_mode,
            struct ucred *cred) {
  (void)cred;
  struct proc *p = clkm_current_proc();
  uid_t me = p != NULL ? p->p_uid : 0;
  (void)gid;
  if (me == 0) {
    if ((acc_mode & VEXEC) && type != VDIR && (file_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0)
      return EACCES;
    return 0;
  }
  mode_t mask = 0;
  if (me == uid) {
    if (acc_mode & VEXEC) mask |= S_IXUSR;
    if (acc_mode & VREAD) mask |= S_IRUSR;
    if (acc_mode & VWRITE) mask |= S_IWUSR;
  } else {
    if (acc_mode & VEXEC) mask |= S_IXOTH;
    if (acc_mode & VREAD) mask |= S_IROTH;
    if (acc_mode & VWRITE) mask |= S_IWOTH;
  }
  return (file_mode & mask) == mask ? 0 : EACCES;
}

struct vnode *checkalias(struct vnode *vp, dev_t rdev, struct mount *mp) {
  (void)mp;
  struct kvnode *kv = checked(vp, "checkalias");
  if (vp->v_type != VCHR && vp->v_type != VBLK) return NULL;
  kv->spec.si_rdev = rdev;
  vp->v_specinfo = &kv->spec;
  return NULL;
}

/* The device of a VCHR or VBLK vnode: from the kernel's record (v_specinfo is writable). */
int vnode_rdev(struct vnode *vp, dev_t *rdev) {
  struct kvnode *kv = vnode_record(vp);
  if (kv == NULL || (vp->v_type != VCHR && vp->v_type != VBLK) || vp->v_specinfo != &kv->spec)
    return ENXIO;
  *rdev = kv->spec.si_rdev;
  return 0;
}

/* ---- Mounts ---- */

struct vfs_call {
  struct kmount *km;
  const char *path;
  int flags;
  struct vnode *vp;
  struct statfs *sbp;
  int error;
};

static int mount_thunk(void *v) {
  struct vfs_call *c = v;
  struct vfsops *ops = c->km->m.mnt_op;
  struct proc *p = clkm_current_proc();
  c->error = ops->vfs_mount != NULL ? ops->vfs_mount(&c->km->m, c->path, NULL, NULL, p) : 0;
  return 0;
}

static int start_thunk(void *v) {
  struct vfs_call *c = v;
  c->error = c->km->m.mnt_op->vfs_start(&c->km->m, 0, clkm_current_proc());
  return 0;
}

static int unmount_thunk(void *v) {
  struct vfs_call *c = v;
  struct vfsops *ops = c->km->m.mnt_op;
  c->error = ops->vfs_unmount != NULL ? ops->vfs_unmount(&c->km->m, c->flags, clkm_current_proc()) : 0;
  return 0;
}

static int root_thunk(void *v) {
  struct vfs_call *c = v;
  c->vp = NULL;
  c->error = c->km->m.mnt_op->vfs_root(&c->km->m, &c->vp);
  return 0;
}

static int statfs_thunk(void *v) {
  struct vfs_call *c = v;
  c->error = c->km->m.mnt_op->vfs_statfs(&c->km->m, c->sbp, clkm_current_proc());
  return 0;
}

/* A vfsops function of km's file system: callable (module code of its module, or the kernel's
 * when the file system is the kernel's); NULL is `optional`. */
static int vfsop_ok(struct kmount *km, const char *what, const void *fn, int optional) {
  if (fn == NULL) return optional ? 0 : EOPNOTSUPP;
  if (km->module < 0) return 0;
  int callable;
  int owner = clkm_code_owner(fn, &callable);
  if (!callable || (owner >= 0 && owner != km->module)) {
    clkm_logf("lkm: vfsops of '%s': %s %p is not module code\n", km->type, what, fn);
    return EFAULT;
  }
  return 0;
}

/* Runs a vfsops call of km: directly for the kernel's file systems, guarded for a module's. */
static int vfs_call(struct kmount *km, const char *op, int (*thunk)(void *), struct vfs_call *c) {
  c->km = km;
  c->error = 0;
  if (km->module < 0) {
    thunk(c);
    return c->error;
  }
  char during[160];
  snprintf(during, sizeof during, "%s of '%s' on %s", op, km->type, km->path);
  clkm_set_activity(during);
  int error = clkm_module_call(km->module, thunk, c);
  return error ? error : c->error;
}

/* VFS_ROOT: the root vnode of km, referenced and locked, checked. */
int vfs_root(struct mount *mp, struct vnode **vpp) {
  struct kmount *km;
  *vpp = NULL;
  if (!live_mount(mp, &km) || !km->ready) return ENXIO;
  int error = vfsop_ok(km, "vfs_root", (void *)km->m.mnt_op->vfs_root, 0);
  if (error) return error;
  struct vfs_call c = {0};
  error = vfs_call(km, "vfs_root", root_thunk, &c);
  if (error) return error;
  struct kvnode *kv = vnode_record(c.vp);
  if (kv == NULL || kv->km != km) {
    clkm_logf("lkm: vfs_root of '%s' returned %p, not a vnode getnewvnode gave the mount\n",
              km->type, (void *)c.vp);
    return EFAULT;
  }
  c.vp->v_flag |= VROOT;
  *vpp = c.vp;
  return 0;
}

int vfs_statfs(struct mount *mp, struct statfs *sbp) {
  struct kmount *km;
  if (!live_mount(mp, &km) || !km->ready) return ENXIO;
  memset(sbp, 0, sizeof *sbp);
  sbp->f_bsize = 512;
  sbp->f_iosize = 4096;
  sbp->f_namemax = MAXNAMLEN;
  if (km->m.mnt_op->vfs_statfs != NULL) {
    int error = vfsop_ok(km, "vfs_statfs", (void *)km->m.mnt_op->vfs_statfs, 0);
    if (error) return error;
    struct statfs fs = *sbp;
    struct vfs_call c = {.sbp = &fs};
    error = vfs_call(km, "vfs_statfs", statfs_thunk, &c);
    if (error) return error;
    *sbp = fs;
  }
  /* The names and flags are the kernel's, whatever the file system wrote. */
  sbp->f_flags = (u_int32_t)km->m.mnt_flag;
  memset(sbp->f_fstypename, 0, sizeof sbp->f_fstypename);
  memset(sbp->f_mntonname, 0, sizeof sbp->f_mntonname);
  memset(sbp->f_mntfromname, 0, sizeof sbp->f_mntfromname);
  strlcpy(sbp->f_fstypename, km->type, sizeof sbp->f_fstypename);
  strlcpy(sbp->f_mntonname, km->path, sizeof sbp->f_mntonname);
  strlcpy(sbp->f_mntfromname, km->type, sizeof sbp->f_mntfromname);
  return 0;
}

/* Mounts type `ops` (module `module`, `name`) on covered (a directory vnode, referenced; the
 * mount keeps the reference), at path. The new mount, or an errno. */
int vfs_domount(struct vfs_rec *r, struct vnode *covered, const char *path, int flags,
                struct mount **result) {
  struct vfsops *ops;
  struct vfsconf *vfc;
  int module;
  const char *name;
  int error = vfs_rec_info(r, &ops, &vfc, &module, &name);
  if (error) return error;
  struct kmount *km = kalloc(sizeof *km);
  if (km == NULL) return ENOMEM;
  TAILQ_INIT(&km->vnodes);
  km->vfs = r;
  km->module = module;
  km->m.mnt_vfc = vfc;
  km->m.mnt_op = ops;
  km->m.mnt_vnodecovered = covered;
  km->m.mnt_flag = MNT_LOCAL | (flags & (MNT_RDONLY | MNT_NOSUID | MNT_NODEV));
  if (covered == NULL) km->m.mnt_flag |= MNT_ROOTFS;
  km->covered = covered;
  strlcpy(km->type, name, sizeof km->type);
  strlcpy(km->path, path, sizeof km->path);
  strlcpy(km->m.mnt_stat.f_fstypename, name, sizeof km->m.mnt_stat.f_fstypename);
  strlcpy(km->m.mnt_stat.f_mntonname, path, sizeof km->m.mnt_stat.f_mntonname);
  strlcpy(km->m.mnt_stat.f_mntfromname, name, sizeof km->m.mnt_stat.f_mntfromname);
  if ((error = vfsop_ok(km, "vfs_mount", (void *)ops->vfs_mount, 1)) ||
      (error = vfsop_ok(km, "vfs_root", (void *)ops->vfs_root, 0)) ||
      (error = vfsop_ok(km, "vfs_unmount", (void *)ops->vfs_unmount, 1)) ||
      (error = vfsop_ok(km, "vfs_start", (void *)ops->vfs_start, 1))) {
    free(km, M_TEMP);
    return error;
  }
  LIST_INSERT_HEAD(&mounts, km, list);
  struct vfs_call c = {.path = path};
  error = vfs_call(km, "vfs_mount", mount_thunk, &c);
  if (error == 0 && ops->vfs_start != NULL) error = vfs_call(km, "vfs_start", start_thunk, &c);
  if (error) {
    /* What the file system made is reclaimed without asking it more. */
    struct kvnode *kv, *next;
    TAILQ_FOREACH_SAFE(kv, &km->vnodes, mntlist, next) {
      if (kv->onfree) {
        TAILQ_REMOVE(&freelist, kv, freelist);
    numfree--;
        kv->onfree = 0;
      }
      TAILQ_REMOVE(&km->vnodes, kv, mntlist);
      kv->km = NULL;
      TAILQ_INSERT_TAIL(&orphans, kv, mntlist);
      kv->v.v_usecount = 0;
      reclaim(kv, 0);
    }
    LIST_REMOVE(km, list);
    free(km, M_TEMP);
    return error;
  }
  km->ready = 1;
  vfs_rec_mounted(r, 1);
  if (covered != NULL) covered->v_mountedhere = &km->m;
  *result = &km->m;
  return 0;
}

/* Whether any vnode of km is in use by someone other than the file system's own root. */
static int mount_busy(struct kmount *km) {
  struct kvnode *kv;
  TAILQ_FOREACH(kv, &km->vnodes, mntlist) {
    if (kv->dead) continue;
    if (kv->v.v_mountedhere != NULL) return 1;
  }
  return 0;
}

/* Takes km out: every vnode reclaimed (call_fs: through the file system), the ones still in
 * use made dead and orphaned, the covered vnode uncovered and released. */
static void mount_teardown(struct kmount *km, int call_fs) {
  struct kvnode *kv, *next;
  TAILQ_FOREACH_SAFE(kv, &km->vnodes, mntlist, next) {
    if (kv->onfree) {
      TAILQ_REMOVE(&freelist, kv, freelist);
    numfree--;
      kv->onfree = 0;
    }
    TAILQ_REMOVE(&km->vnodes, kv, mntlist);
    km->nvnodes--;
    kv->km = NULL;
    TAILQ_INSERT_TAIL(&orphans, kv, mntlist);
    if (!kv->dead) {
      kv->dead = 1;
      if (call_fs) {
        /* VOP_RECLAIM through the vector: the vnode is not dead for the call. */
        kv->dead = 0;
        (void)VOP_RECLAIM(&kv->v, clkm_current_proc());
        kv->dead = 1;
      }
      kv->v.v_data = NULL;
      kv->v.v_op = dead_vnodeop_p;
      kv->v.v_type = VBAD;
      kv->v.v_mountedhere = NULL;
      kv->v.v_mount = NULL;
    }
    if (kv->v.v_usecount == 0) free_vnode(kv);
  }
  if (km->covered != NULL) {
    struct kvnode *ckv = vnode_record(km->covered);
    if (ckv != NULL) {
      km->covered->v_mountedhere = NULL;
      vrele(km->covered);
    }
  }
  if (km->ready) vfs_rec_mounted(km->vfs, -1);
  LIST_REMOVE(km, list);
  free(km, M_TEMP);
}

/* unmount(2) of mp: EBUSY while another file system is mounted on one of its directories; the
 * file system's vfs_unmount may refuse (EBUSY, files open); a faulting one is unmounted
 * anyway (after its oops). */
int vfs_dounmount(struct mount *mp, int flags) {
  struct kmount *km;
  if (!live_mount(mp, &km) || !km->ready) return EINVAL;
  if (km->covered == NULL) return EBUSY; /* the root */
  if (mount_busy(km)) return EBUSY;
  int error = vfsop_ok(km, "vfs_unmount", (void *)km->m.mnt_op->vfs_unmount, 1);
  if (error == 0) {
    struct vfs_call c = {.flags = flags};
    error = vfs_call(km, "vfs_unmount", unmount_thunk, &c);
    if (error && error != EFAULT) return error; /* refused: still mounted */
  }
  /* Vnodes still referenced by open files: those files fail from now on. */
  mount_teardown(km, error == 0);
  return 0;
}

int vflush(struct mount *mp, struct vnode *skipvp, int flags) {
  struct kmount *km;
  if (!live_mount(mp, &km)) {
    if (clkm_guard_active()) misuse("vflush: %p is not a mount", mp);
    return EINVAL;
  }
  int busy = 0;
  struct kvnode *kv, *next;
  TAILQ_FOREACH_SAFE(kv, &km->vnodes, mntlist, next) {
    if (&kv->v == skipvp || kv->dead) continue;
    if ((flags & SKIPSYSTEM) && (kv->v.v_flag & VSYSTEM)) continue;
    if (kv->v.v_usecount == 0) {
      if (kv->onfree) {
        TAILQ_REMOVE(&freelist, kv, freelist);
    numfree--;
        kv->onfree = 0;
      }
      reclaim(kv, 1);
      continue;
    }
    if (flags & FORCECLOSE) {
      reclaim(kv, 1);
      continue;
    }
    busy++;
  }
  return busy ? EBUSY : 0;
}

/* The mounts of module id's types go at once (the module is being removed: none of its code
 * runs). */
void vfs_forget_mounts(int id) {
  struct kmount *km, *next;
  LIST_FOREACH_SAFE(km, &mounts, list, next) {
    if (km->module == id) mount_teardown(km, 0);
  }
}

void clkm_vfs_forget(int id);
int vfs_find_stale(void);

/* Everything of module id's file systems: its mounts (none of its code runs), its types, its
 * vectors. */
void vfs_forget_module(int id) {
  vfs_forget_mounts(id);
  clkm_vfs_forget(id);
}

/* The audit: a registered type whose module went without unregistering it is removed, with its
 * mounts. */
void clkm_audit_vfs(void) {
  int id;
  while ((id = vfs_find_stale()) >= 0) vfs_forget_module(id);
}

/* Every mount but the root, newest first, through its file system (lkmd stopping). */
void clkm_vfs_unmount_all(void) {
  for (;;) {
    struct kmount *km = LIST_FIRST(&mounts);
    while (km != NULL && (km->covered == NULL || mount_busy(km))) km = LIST_NEXT(km, list);
    if (km == NULL) break;
    if (vfs_dounmount(&km->m, MNT_FORCE) != 0) mount_teardown(km, 0);
  }
}

/* The mount whose root covers vp (vp->v_mountedhere, checked), or NULL. */
struct mount *vfs_mounted_on(struct vnode *vp) {
  struct kmount *km;
  struct mount *mp = vp->v_mountedhere;
  if (mp == NULL) return NULL;
  if (!live_mount(mp, &km) || km->covered != vp || !km->ready) return NULL;
  return mp;
}

/* The vnode a mount covers (for ".." at its root). */
struct vnode *vfs_covered(struct mount *mp) {
  struct kmount *km;
  if (mp == NULL || !live_mount(mp, &km)) return NULL;
  return km->covered;
}

/* The path a mount was made at, and its type. */
const char *vfs_mount_path(struct mount *mp) {
  struct kmount *km;
  return mp != NULL && live_mount(mp, &km) ? km->path : "";
}

/* The kernel's mount of vp (its own record, not v_mount, which is writable). */
struct mount *vnode_mount(struct vnode *vp) {
  struct kvnode *kv = vnode_record(vp);
  return kv != NULL && kv->km != NULL ? &kv->km->m : NULL;
}

/* The mounts, oldest first, for getfsstat: fills up to max, returns how many there are. */
int vfs_mount_list(struct mount **list, int max) {
  int n = 0;
  struct kmount *km;
  LIST_FOREACH(km, &mounts, list) n += km->ready;
  int i = n;
  LIST_FOREACH(km, &mounts, list) {
    if (!km->ready) continue;
    i--;
    if (i < max) list[i] = &km->m;
  }
  return n;
}

/* The kernel's own file system types (the root file system) register through this. */
void vfs_init_kernel(void) { vfs_opv_init_kernel(&dead_opv); }

/* How many vnodes exist (tests, status). */
int clkm_vnode_count(void) { return numvnodes; }

size_t clkm_vfs_subr_exports(clkm_export_t *table, size_t room) {
  CLKM_EXPORTS(
      table, room, CLKM_FUNC("getnewvnode", getnewvnode), CLKM_FUNC("vget", vget),
      CLKM_FUNC("vref", vref), CLKM_FUNC("vrele", vrele), CLKM_FUNC("vput", vput),
      CLKM_FUNC("vn_lock", vn_lock), CLKM_FUNC("vgone", vgone), CLKM_FUNC("vflush", vflush),
      CLKM_FUNC("vattr_null", vattr_null), CLKM_FUNC("vaccess", vaccess),
      CLKM_FUNC("checkalias", checkalias), CLKM_DATA("rootvnode", &rootvnode),
      CLKM_FUNC("vn_default_error", vn_default_error),
      CLKM_FUNC("vop_generic_islocked", vop_generic_islocked),
      CLKM_FUNC("vop_generic_lock", vop_generic_lock),
      CLKM_FUNC("vop_generic_unlock", vop_generic_unlock),
      CLKM_FUNC("vop_generic_abortop", vop_generic_abortop),
      CLKM_FUNC("vop_generic_bmap", vop_generic_bmap),
      CLKM_FUNC("vop_generic_revoke", vop_generic_revoke),
      CLKM_FUNC("vop_generic_kqfilter", vop_generic_kqfilter),
      CLKM_FUNC("VOP_ISLOCKED", VOP_ISLOCKED), CLKM_FUNC("VOP_LOOKUP", VOP_LOOKUP),
      CLKM_FUNC("VOP_CREATE", VOP_CREATE), CLKM_FUNC("VOP_MKNOD", VOP_MKNOD),
      CLKM_FUNC("VOP_OPEN", VOP_OPEN), CLKM_FUNC("VOP_CLOSE", VOP_CLOSE),
      CLKM_FUNC("VOP_ACCESS", VOP_ACCESS), CLKM_FUNC("VOP_GETATTR", VOP_GETATTR),
      CLKM_FUNC("VOP_SETATTR", VOP_SETATTR), CLKM_FUNC("VOP_READ", VOP_READ),
      CLKM_FUNC("VOP_WRITE", VOP_WRITE), CLKM_FUNC("VOP_IOCTL", VOP_IOCTL),
      CLKM_FUNC("VOP_POLL", VOP_POLL), CLKM_FUNC("VOP_KQFILTER", VOP_KQFILTER),
      CLKM_FUNC("VOP_REVOKE", VOP_REVOKE), CLKM_FUNC("VOP_FSYNC", VOP_FSYNC),
      CLKM_FUNC("VOP_REMOVE", VOP_REMOVE), CLKM_FUNC("VOP_LINK", VOP_LINK),
      CLKM_FUNC("VOP_RENAME", VOP_RENAME), CLKM_FUNC("VOP_MKDIR", VOP_MKDIR),
      CLKM_FUNC("VOP_RMDIR", VOP_RMDIR), CLKM_FUNC("VOP_SYMLINK", VOP_SYMLINK),
      CLKM_FUNC("VOP_READDIR", VOP_READDIR), CLKM_FUNC("VOP_READLINK", VOP_READLINK),
      CLKM_FUNC("VOP_ABORTOP", VOP_ABORTOP), CLKM_FUNC("VOP_INACTIVE", VOP_INACTIVE),
      CLKM_FUNC("VOP_RECLAIM", VOP_RECLAIM), CLKM_FUNC("VOP_LOCK", VOP_LOCK),
      CLKM_FUNC("VOP_UNLOCK", VOP_UNLOCK), CLKM_FUNC("VOP_BMAP", VOP_BMAP),
      CLKM_FUNC("VOP_PRINT", VOP_PRINT), CLKM_FUNC("VOP_PATHCONF", VOP_PATHCONF),
      CLKM_FUNC("VOP_ADVLOCK", VOP_ADVLOCK), CLKM_FUNC("VOP_STRATEGY", VOP_STRATEGY),
      CLKM_FUNC("VOP_BWRITE", VOP_BWRITE));
}
