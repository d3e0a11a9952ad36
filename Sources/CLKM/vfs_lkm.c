/* The virtual file system layer: the vfsconf list file system modules register in (a port of
 * vfs_register/vfs_unregister from OpenBSD's sys/kern/vfs_init.c and _lkm_vfs from
 * kern_lkm.c), the mount table, vnodes (getnewvnode), and guarded calls of vfsops and vnode
 * operations. Vnodes and mounts are the kernel's: a file system gets them from the kernel, and
 * every one it hands back is checked against the kernel's lists before it is followed. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_VNODES 4096

/* One registered file system type. */
struct vfs_rec {
  struct vfs_rec *next;
  struct clkm_vfsconf *vfc; /* the module's, inside its image */
  struct clkm_vfsops *ops;  /* likewise */
  char name[CLKM_MFSNAMELEN];
  int typenum;
  unsigned refcount;
  int module;
};

struct kvnode {
  struct clkm_vnode v; /* what the file system sees; first */
  struct kvnode *next;
};

struct kmount {
  struct clkm_mount m; /* what the file system sees; first */
  struct kmount *next;
  struct vfs_rec *vfs;
  struct kvnode *vnodes;
  int nvnodes;
  int ready;
  char path[CLKM_MNAMELEN]; /* the kernel's copy: mnt_stat is the file system's to write */
};

static struct vfs_rec *vfs_list;
static struct kmount *mount_list;

static int in_table_image(const struct lkm_table *t, const void *p, size_t len) {
  uintptr_t a = (uintptr_t)p;
  return a >= t->area && len <= t->size && a - t->area <= t->size - len;
}

static struct vfs_rec *vfs_byname(const char *name) {
  for (struct vfs_rec *r = vfs_list; r != NULL; r = r->next)
    if (strcmp(r->name, name) == 0) return r;
  return NULL;
}

static struct kmount *find_mount(const void *mp) {
  for (struct kmount *k = mount_list; k != NULL; k = k->next)
    if ((const void *)k == mp) return k;
  return NULL;
}

static struct kvnode *find_vnode(const struct kmount *km, const void *vp) {
  if (km == NULL) return NULL;
  for (struct kvnode *v = km->vnodes; v != NULL; v = v->next)
    if ((const void *)v == vp) return v;
  return NULL;
}

static void free_mount(struct kmount *km) {
  struct kmount **pp = &mount_list;
  while (*pp != NULL && *pp != km) pp = &(*pp)->next;
  if (*pp == km) *pp = km->next;
  struct kvnode *v = km->vnodes;
  while (v != NULL) {
    struct kvnode *next = v->next;
    free(v);
    v = next;
  }
  free(km);
}

/* ---- LM_VFS: vfs_register / vfs_unregister ---- */

CLKM_MODAPI int clkm_vfs_handler(struct lkm_table *lkmtp, int cmd) {
  struct lkm_vfs *args = (struct lkm_vfs *)lkmtp->private.lkm_any;
  if (!in_table_image(lkmtp, args, sizeof *args)) return CLKM_EFAULT;
  struct clkm_vfsconf *vfc = args->lkm_vfsconf;
  switch (cmd) {
  case 1: { /* LKM_E_LOAD */
    if (clkm_lkmexists(lkmtp)) return CLKM_EEXIST;
    if (!in_table_image(lkmtp, vfc, sizeof *vfc)) return CLKM_EFAULT;
    if (memchr(vfc->vfc_name, 0, sizeof vfc->vfc_name) == NULL || vfc->vfc_name[0] == 0)
      return CLKM_EINVAL;
    if (vfs_byname(vfc->vfc_name) != NULL) return CLKM_EEXIST;
    struct clkm_vfsops *ops = vfc->vfc_vfsops;
    if (!in_table_image(lkmtp, ops, sizeof *ops)) return CLKM_EFAULT;
    struct vfs_rec *r = calloc(1, sizeof *r);
    if (r == NULL) return CLKM_ENOMEM;
    r->vfc = vfc;
    r->ops = ops;
    memcpy(r->name, vfc->vfc_name, sizeof r->name);
    r->typenum = vfc->vfc_typenum;
    r->module = lkmtp->id;
    struct vfs_rec **pp = &vfs_list;
    while (*pp != NULL) pp = &(*pp)->next;
    *pp = r;
    vfc->vfc_refcount = 0;
    if (ops->vfs_init != NULL) {
      if (!clkm_callable((void *)ops->vfs_init)) {
        clkm_logf("lkm: vfsops of '%s': vfs_init %p is not module code\n", r->name,
                  (void *)ops->vfs_init);
        *pp = NULL;
        free(r);
        return CLKM_EFAULT;
      }
      ops->vfs_init(vfc);
    }
    return 0;
  }
  case 2: { /* LKM_E_UNLOAD */
    struct vfs_rec **pp = &vfs_list;
    while (*pp != NULL && !((*pp)->vfc == vfc && (*pp)->module == lkmtp->id)) pp = &(*pp)->next;
    if (*pp == NULL) return CLKM_ENOENT;
    if ((*pp)->refcount != 0) return CLKM_EBUSY;
    struct vfs_rec *r = *pp;
    *pp = r->next;
    free(r);
    return 0;
  }
  default:
    return 0;
  }
}

void clkm_vfs_forget(int id) {
  struct kmount *km = mount_list;
  while (km != NULL) {
    struct kmount *next = km->next;
    if (km->vfs->module == id) free_mount(km);
    km = next;
  }
  struct vfs_rec **pp = &vfs_list;
  while (*pp != NULL) {
    if ((*pp)->module == id) {
      struct vfs_rec *r = *pp;
      *pp = r->next;
      free(r);
    } else {
      pp = &(*pp)->next;
    }
  }
}

/* The audit: a registered file system whose vfsconf is not inside its module's image any more
 * (the module went without unregistering it) is removed with its mounts. */
void clkm_audit_vfs(void) {
  for (int removed = 1; removed;) {
    removed = 0;
    for (struct vfs_rec *r = vfs_list; r != NULL; r = r->next) {
      struct lkm_table *t = clkm_table_containing(r->vfc);
      if (r->module >= 0 && (t == NULL || t->id != r->module)) {
        clkm_audit_note("file system '%s' belonged to a module that is gone: removed", r->name);
        clkm_vfs_forget(r->module);
        removed = 1; /* the list changed: start again */
        break;
      }
    }
  }
}

int clkm_vfs_count(void) {
  int n = 0;
  for (struct vfs_rec *r = vfs_list; r != NULL; r = r->next) n++;
  return n;
}

int clkm_vfs_at(int index, clkm_vfs_info_t *info) {
  memset(info, 0, sizeof *info);
  struct vfs_rec *r = vfs_list;
  for (int i = 0; r != NULL && i < index; i++) r = r->next;
  if (r == NULL || index < 0) return CLKM_ENOENT;
  memcpy(info->name, r->name, sizeof info->name);
  info->typenum = r->typenum;
  info->refcount = r->refcount;
  info->module = r->module;
  return 0;
}

/* ---- Functions file systems call ---- */

CLKM_MODAPI int clkm_getnewvnode(int tag, struct clkm_mount *mp, struct clkm_vops *vops,
                                 struct clkm_vnode **vpp) {
  struct kmount *km = find_mount(mp);
  if (km == NULL) return CLKM_EINVAL;
  if (km->nvnodes >= MAX_VNODES) return CLKM_ENFILE;
  struct kvnode *v = calloc(1, sizeof *v);
  if (v == NULL) return CLKM_ENOMEM;
  v->v.v_type = CLKM_VNON;
  v->v.v_tag = tag;
  v->v.v_op = vops;
  v->v.v_mount = mp;
  v->next = km->vnodes;
  km->vnodes = v;
  km->nvnodes++;
  *vpp = &v->v;
  return 0;
}

CLKM_MODAPI void clkm_vattr_null(struct clkm_vattr *vap) {
  memset(vap, 0xff, sizeof *vap); /* every field VNOVAL */
}

/* ---- Guarded calls ---- */

struct vcall {
  struct kmount *km;
  int (*fn)(void *);
  void *args;
  int error;
  /* vfs operations */
  int op;
  const char *path;
  int flags;
  struct clkm_vnode *vp;
};

static int vop_thunk(void *v) {
  struct vcall *c = v;
  c->error = c->fn(c->args);
  return 0;
}

static void guarded(int (*thunk)(void *), struct vcall *c, clkm_outcome_t *out) {
  int saved = clkm_current_module;
  clkm_set_current_module(out->module);
  if (clkm_guarded_call(thunk, c, &out->fault)) {
    out->faulted = 1;
    out->error = CLKM_EFAULT;
  } else {
    out->error = c->error;
  }
  clkm_set_current_module(saved);
}

static void outcome_init(clkm_outcome_t *out, int module) {
  memset(out, 0, sizeof *out);
  out->module = module;
}

static const char *const vop_names[] = {"vop_create", "vop_getattr", "vop_lookup", "vop_read",
                                        "vop_readdir", "vop_reclaim", "vop_write"};
enum { VOP_CREATE, VOP_GETATTR, VOP_LOOKUP, VOP_READ, VOP_READDIR, VOP_RECLAIM, VOP_WRITE };

/* The operation `index` of a vnode, checked: 0 with *fn, EOPNOTSUPP when NULL, EFAULT (logged)
 * when the vector or the function is not the module's. */
static int vop_function(struct kmount *km, struct kvnode *kv, int index, int (**fn)(void *)) {
  struct clkm_vops *ops = kv->v.v_op;
  if (!clkm_in_module_image(ops, sizeof *ops)) {
    clkm_logf("lkm: a vnode of '%s' has operations vector %p outside module memory\n",
              km->vfs->name, (void *)ops);
    return CLKM_EFAULT;
  }
  int (*f)(void *) = ((int (**)(void *))ops)[index];
  if (f == NULL) return CLKM_EOPNOTSUPP;
  if (!clkm_callable((void *)f)) {
    clkm_logf("lkm: %s of '%s' %p is not module code\n", vop_names[index], km->vfs->name,
              (void *)f);
    return CLKM_EFAULT;
  }
  *fn = f;
  return 0;
}

/* Checks mount and vnode handles and sets up a call of operation `index`. */
static int prepare_vop(void *mount, void *vp, int index, struct vcall *c, clkm_outcome_t *out) {
  memset(c, 0, sizeof *c);
  outcome_init(out, -1);
  struct kmount *km = find_mount(mount);
  if (km == NULL || !km->ready) return CLKM_EINVAL;
  out->module = km->vfs->module;
  struct kvnode *kv = find_vnode(km, vp);
  if (kv == NULL) return CLKM_EINVAL;
  c->km = km;
  c->vp = &kv->v;
  return vop_function(km, kv, index, &c->fn);
}

/* A vnode a file system handed back must be one of the mount's. */
static struct clkm_vnode *checked_vnode(struct kmount *km, struct clkm_vnode *vp, const char *who,
                                        clkm_outcome_t *out) {
  if (find_vnode(km, vp) != NULL) return vp;
  clkm_logf("lkm: %s of '%s' returned %p, not a vnode getnewvnode gave the mount\n", who,
            km->vfs->name, (void *)vp);
  out->error = CLKM_EFAULT;
  return NULL;
}

/* ---- Mounting ---- */

CLKM_MODAPI static int mount_thunk(void *v) {
  struct vcall *c = v;
  struct kmount *km = c->km;
  struct clkm_vfsops *ops = km->vfs->ops;
  int error = 0;
  if (ops->vfs_mount != NULL) error = ops->vfs_mount(&km->m, c->path, NULL, NULL, clkm_current_proc());
  if (error == 0 && ops->vfs_start != NULL && clkm_callable((void *)ops->vfs_start))
    error = ops->vfs_start(&km->m, 0, clkm_current_proc());
  if (error == 0) km->vfs->vfc->vfc_refcount++;
  c->error = error;
  return 0;
}

CLKM_MODAPI static int unmount_thunk(void *v) {
  struct vcall *c = v;
  struct kmount *km = c->km;
  int (*fn)(struct clkm_mount *, int, struct clkm_proc *) = km->vfs->ops->vfs_unmount;
  c->error = fn != NULL ? fn(&km->m, c->flags, clkm_current_proc()) : 0;
  if (c->error == 0 && km->vfs->vfc->vfc_refcount > 0) km->vfs->vfc->vfc_refcount--;
  return 0;
}

static int root_thunk(void *v) {
  struct vcall *c = v;
  struct clkm_vnode *vp = NULL;
  c->error = c->km->vfs->ops->vfs_root(&c->km->m, &vp);
  c->vp = vp;
  return 0;
}

/* Checks a vfsops function before it is called (NULL is allowed when `optional`). */
static int check_vfsop(struct kmount *km, const char *what, const void *fn, int optional) {
  if (fn == NULL) return optional ? 0 : CLKM_EOPNOTSUPP;
  if (!clkm_callable(fn)) {
    clkm_logf("lkm: vfsops of '%s': %s %p is not module code\n", km->vfs->name, what, fn);
    return CLKM_EFAULT;
  }
  return 0;
}

void *clkm_vfs_mount(const char *fstype, const char *path, clkm_outcome_t *out) {
  outcome_init(out, -1);
  struct vfs_rec *r = vfs_byname(fstype);
  if (r == NULL) {
    out->error = CLKM_EOPNOTSUPP;
    return NULL;
  }
  out->module = r->module;
  if (!clkm_in_module_image(r->ops, sizeof *r->ops) || !clkm_in_module_image(r->vfc, sizeof *r->vfc)) {
    out->error = CLKM_EFAULT;
    return NULL;
  }
  struct kmount *km = calloc(1, sizeof *km);
  if (km == NULL) {
    out->error = CLKM_ENOMEM;
    return NULL;
  }
  km->vfs = r;
  km->m.mnt_vfc = r->vfc;
  km->m.mnt_op = r->ops;
  km->m.mnt_flag = CLKM_MNT_LOCAL;
  memcpy(km->m.mnt_stat.f_fstypename, r->name, sizeof r->name);
  strncpy(km->m.mnt_stat.f_mntonname, path, sizeof km->m.mnt_stat.f_mntonname - 1);
  strncpy(km->path, path, sizeof km->path - 1);
  memcpy(km->m.mnt_stat.f_mntfromname, r->name, sizeof r->name);
  int error;
  if ((error = check_vfsop(km, "vfs_mount", (void *)r->ops->vfs_mount, 1)) ||
      (error = check_vfsop(km, "vfs_root", (void *)r->ops->vfs_root, 0)) ||
      (error = check_vfsop(km, "vfs_unmount", (void *)r->ops->vfs_unmount, 1))) {
    free(km);
    out->error = error;
    return NULL;
  }
  km->next = mount_list;
  mount_list = km;
  struct vcall c;
  memset(&c, 0, sizeof c);
  c.km = km;
  c.path = path;
  guarded(mount_thunk, &c, out);
  if (out->error != 0) {
    free_mount(km);
    return NULL;
  }
  r->refcount++;
  km->ready = 1;
  return km;
}

void clkm_vfs_unmount(void *mount, clkm_outcome_t *out) {
  outcome_init(out, -1);
  struct kmount *km = find_mount(mount);
  if (km == NULL || !km->ready) {
    out->error = CLKM_EINVAL;
    return;
  }
  out->module = km->vfs->module;
  struct vcall c;
  memset(&c, 0, sizeof c);
  c.km = km;
  int error = check_vfsop(km, "vfs_unmount", (void *)km->vfs->ops->vfs_unmount, 1);
  if (error == 0) {
    guarded(unmount_thunk, &c, out);
    if (out->error != 0 && !out->faulted) return; /* refused: still mounted */
  } else {
    out->error = error;
  }
  if (out->error == 0) {
    /* VOP_RECLAIM each vnode; a fault stops the reclaims, not the unmount. */
    for (struct kvnode *v = km->vnodes; v != NULL; v = v->next) {
      int (*fn)(void *) = NULL;
      if (vop_function(km, v, VOP_RECLAIM, &fn) != 0) continue;
      struct clkm_vop_reclaim_args args = {&v->v, clkm_current_proc()};
      struct vcall rc;
      memset(&rc, 0, sizeof rc);
      rc.km = km;
      rc.fn = fn;
      rc.args = &args;
      clkm_outcome_t r;
      outcome_init(&r, km->vfs->module);
      guarded(vop_thunk, &rc, &r);
      if (r.faulted) {
        *out = r;
        break;
      }
    }
  }
  if (km->vfs->refcount > 0) km->vfs->refcount--;
  free_mount(km);
}

const char *clkm_mount_fstype(void *mount) {
  struct kmount *km = find_mount(mount);
  return km != NULL ? km->vfs->name : "";
}

void *clkm_vfs_root(void *mount, clkm_outcome_t *out) {
  outcome_init(out, -1);
  struct kmount *km = find_mount(mount);
  if (km == NULL || !km->ready) {
    out->error = CLKM_EINVAL;
    return NULL;
  }
  out->module = km->vfs->module;
  int error = check_vfsop(km, "vfs_root", (void *)km->vfs->ops->vfs_root, 0);
  if (error) {
    out->error = error;
    return NULL;
  }
  struct vcall c;
  memset(&c, 0, sizeof c);
  c.km = km;
  guarded(root_thunk, &c, out);
  if (out->error) return NULL;
  return checked_vnode(km, c.vp, "vfs_root", out);
}

/* ---- Vnode operations ---- */

void *clkm_vop_lookup(void *mount, void *dvp, const char *name, int create, clkm_outcome_t *out) {
  struct vcall c;
  int error = prepare_vop(mount, dvp, create ? VOP_CREATE : VOP_LOOKUP, &c, out);
  if (error) {
    out->error = error;
    return NULL;
  }
  size_t length = strlen(name);
  char *copy = strdup(name);
  if (copy == NULL) {
    out->error = CLKM_ENOMEM;
    return NULL;
  }
  struct clkm_componentname cn = {create ? 1 : 0, 0x8000 /* ISLASTCN */, clkm_current_proc(),
                                  copy, (long)length};
  struct clkm_vnode *vp = NULL;
  struct clkm_vattr va;
  memset(&va, 0xff, sizeof va);
  va.va_type = CLKM_VREG;
  va.va_mode = 0644;
  struct clkm_vop_lookup_args lookup = {c.vp, &vp, &cn};
  struct clkm_vop_create_args createargs = {c.vp, &vp, &cn, &va};
  c.args = create ? (void *)&createargs : (void *)&lookup;
  guarded(vop_thunk, &c, out);
  free(copy);
  if (out->error) return NULL;
  return checked_vnode(c.km, vp, create ? "vop_create" : "vop_lookup", out);
}

int clkm_vnode_type(void *mount, void *vp) {
  struct kvnode *kv = find_vnode(find_mount(mount), vp);
  if (kv == NULL) return CLKM_VBAD;
  int type = kv->v.v_type;
  return type >= CLKM_VNON && type <= CLKM_VBAD ? type : CLKM_VBAD;
}

void clkm_vop_getattr(void *mount, void *vp, clkm_attr_t *attr, clkm_outcome_t *out) {
  struct vcall c;
  memset(attr, 0xff, sizeof *attr);
  int error = prepare_vop(mount, vp, VOP_GETATTR, &c, out);
  if (error) {
    out->error = error;
    return;
  }
  struct clkm_vattr va;
  memset(&va, 0xff, sizeof va);
  struct clkm_vop_getattr_args args = {c.vp, &va, NULL, clkm_current_proc()};
  c.args = &args;
  guarded(vop_thunk, &c, out);
  if (out->error) return;
  attr->type = va.va_type;
  attr->mode = va.va_mode == 0xffffffffu ? -1 : (int64_t)va.va_mode;
  attr->nlink = va.va_nlink == 0xffffffffu ? -1 : (int64_t)va.va_nlink;
  attr->uid = va.va_uid == 0xffffffffu ? -1 : (int64_t)va.va_uid;
  attr->gid = va.va_gid == 0xffffffffu ? -1 : (int64_t)va.va_gid;
  attr->fileid = (int64_t)va.va_fileid;
  attr->size = (int64_t)va.va_size;
  attr->mtime = va.va_mtime.tv_sec;
}

static size_t rw(void *mount, void *vp, int write, uint64_t offset, void *buf, size_t size,
                 clkm_outcome_t *out) {
  struct vcall c;
  int error = prepare_vop(mount, vp, write ? VOP_WRITE : VOP_READ, &c, out);
  if (error) {
    out->error = error;
    return 0;
  }
  size_t done = 0;
  while (done < size) {
    size_t want = size - done;
    if (want > 65536) want = 65536;
    struct clkm_iovec iov = {(char *)buf + done, want};
    struct clkm_uio uio = {&iov, 1, (clkm_off_t)(offset + done), want, CLKM_UIO_USERSPACE,
                           write ? CLKM_UIO_WRITE : CLKM_UIO_READ, clkm_current_proc()};
    struct clkm_vop_rw_args args = {c.vp, &uio, 0, NULL};
    c.args = &args;
    guarded(vop_thunk, &c, out);
    if (out->error) break;
    size_t moved = uio.uio_resid > want ? 0 : want - uio.uio_resid;
    done += moved;
    if (moved == 0) break;
  }
  return done;
}

size_t clkm_vop_read(void *mount, void *vp, uint64_t offset, void *buf, size_t size,
                     clkm_outcome_t *out) {
  return rw(mount, vp, 0, offset, buf, size, out);
}

size_t clkm_vop_write(void *mount, void *vp, uint64_t offset, const void *buf, size_t size,
                      clkm_outcome_t *out) {
  return rw(mount, vp, 1, offset, (void *)buf, size, out);
}

size_t clkm_vop_readdir(void *mount, void *vp, int64_t *offset, void *buf, size_t size, int *eof,
                        clkm_outcome_t *out) {
  struct vcall c;
  *eof = 0;
  int error = prepare_vop(mount, vp, VOP_READDIR, &c, out);
  if (error) {
    out->error = error;
    return 0;
  }
  struct clkm_iovec iov = {buf, size};
  struct clkm_uio uio = {&iov, 1, (clkm_off_t)*offset, size, CLKM_UIO_USERSPACE, CLKM_UIO_READ,
                         clkm_current_proc()};
  int eofflag = 0;
  struct clkm_vop_readdir_args args = {c.vp, &uio, NULL, &eofflag};
  c.args = &args;
  guarded(vop_thunk, &c, out);
  if (out->error) return 0;
  *eof = eofflag != 0;
  *offset = uio.uio_offset;
  return uio.uio_resid > size ? 0 : size - uio.uio_resid;
}

/* ---- The mount table, for the kernel's namespace ---- */

int clkm_mount_count(void) {
  int n = 0;
  for (struct kmount *k = mount_list; k != NULL; k = k->next) n += k->ready;
  return n;
}

/* The index-th mount (most recent first): its handle, or NULL. */
void *clkm_mount_at(int index) {
  int i = 0;
  for (struct kmount *k = mount_list; k != NULL; k = k->next) {
    if (!k->ready) continue;
    if (i++ == index) return k;
  }
  return NULL;
}

const char *clkm_mount_path(void *mount) {
  struct kmount *km = find_mount(mount);
  return km != NULL ? km->path : "";
}

size_t clkm_vfs_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("getnewvnode", clkm_getnewvnode),
      CLKM_FUNC("vattr_null", clkm_vattr_null),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
