/* The vnode operation descriptors and the vectors file systems build from them
 * (vfs_opv_init_explicit, vfs_opv_init_default: OpenBSD 5.2's vfs_init.c), and the list of
 * file system types modules register (vfs_register and vfs_unregister of vfs_init.c, and
 * _lkm_vfs of kern_lkm.c). Written against the module headers (kern_local.h).
 *
 * A module's vnodeopv_desc and the variable its vector pointer lives in are the module's
 * memory; the vector is the kernel's (allocated here, listed with the module that asked for
 * it, freed when the module goes). Everything a module hands over is checked before use: a
 * bad pointer or an unknown descriptor is a panic of the module (an oops), not a fault of the
 * kernel. */
#include "kern_local.h"

/* ---- The operation descriptors, in vector order ---- */

#define DESC(name, offset) struct vnodeop_desc vop_##name##_desc = {offset, "vop_" #name, 0}
struct vnodeop_desc vop_default_desc = {0, "default", 0};
DESC(islocked, 1);
DESC(lookup, 2);
DESC(create, 3);
DESC(mknod, 4);
DESC(open, 5);
DESC(close, 6);
DESC(access, 7);
DESC(getattr, 8);
DESC(setattr, 9);
DESC(read, 10);
DESC(write, 11);
DESC(ioctl, 12);
DESC(poll, 13);
DESC(kqfilter, 14);
DESC(revoke, 15);
DESC(fsync, 16);
DESC(remove, 17);
DESC(link, 18);
DESC(rename, 19);
DESC(mkdir, 20);
DESC(rmdir, 21);
DESC(symlink, 22);
DESC(readdir, 23);
DESC(readlink, 24);
DESC(abortop, 25);
DESC(inactive, 26);
DESC(reclaim, 27);
DESC(lock, 28);
DESC(unlock, 29);
DESC(bmap, 30);
DESC(print, 31);
DESC(pathconf, 32);
DESC(advlock, 33);
DESC(strategy, 34);
DESC(bwrite, 35);
#define NUMOPS 36
int vfs_opv_numops = NUMOPS;

struct vnodeop_desc *const vfs_op_descs[NUMOPS] = {
    &vop_default_desc,  &vop_islocked_desc, &vop_lookup_desc,  &vop_create_desc,
    &vop_mknod_desc,    &vop_open_desc,     &vop_close_desc,   &vop_access_desc,
    &vop_getattr_desc,  &vop_setattr_desc,  &vop_read_desc,    &vop_write_desc,
    &vop_ioctl_desc,    &vop_poll_desc,     &vop_kqfilter_desc, &vop_revoke_desc,
    &vop_fsync_desc,    &vop_remove_desc,   &vop_link_desc,    &vop_rename_desc,
    &vop_mkdir_desc,    &vop_rmdir_desc,    &vop_symlink_desc, &vop_readdir_desc,
    &vop_readlink_desc, &vop_abortop_desc,  &vop_inactive_desc, &vop_reclaim_desc,
    &vop_lock_desc,     &vop_unlock_desc,   &vop_bmap_desc,    &vop_print_desc,
    &vop_pathconf_desc, &vop_advlock_desc,  &vop_strategy_desc, &vop_bwrite_desc,
};

/* The name of the operation at offset (for messages). */
const char *vfs_op_name(int offset) {
  return offset >= 0 && offset < NUMOPS ? vfs_op_descs[offset]->vdesc_name : "?";
}

/* ---- Vectors ---- */

/* A vector the kernel allocated: whose, and where the module keeps the pointer to it. */
struct opv_rec {
  LIST_ENTRY(opv_rec) list;
  int (**vector)(void *);
  int (***where)(void *);
  int module;
};
static LIST_HEAD(, opv_rec) vectors = LIST_HEAD_INITIALIZER(vectors);

/* Whether vector is one the kernel built (any module's, or its own). */
int vfs_vector_known(int (**vector)(void *), int *module) {
  struct opv_rec *r;
  LIST_FOREACH(r, &vectors, list) {
    if (r->vector == vector) {
      if (module) *module = r->module;
      return 1;
    }
  }
  return 0;
}

static struct opv_rec *vector_at(int (***where)(void *)) {
  struct opv_rec *r;
  LIST_FOREACH(r, &vectors, list) {
    if (r->where == where) return r;
  }
  return NULL;
}

__dead static void refuse(const char *what) {
  char message[160];
  snprintf(message, sizeof message, "vfs_opv_init: %s", what);
  clkm_guard_panic(message, __builtin_return_address(1));
}

/* Fills the vector of vfs with its operations; module -1 is the kernel's own table (not
 * checked; -2: code of no known module asked, checked as a module's). The vector is allocated
 * the first time. */
static void opv_init_explicit(struct vnodeopv_desc *vfs, int module) {
  if (module != -1) {
    if (!clkm_in_module_image(vfs, sizeof *vfs)) refuse("the vnodeopv_desc is not module memory");
    if (!clkm_in_module_image(vfs->opv_desc_vector_p, sizeof *vfs->opv_desc_vector_p))
      refuse("the vector pointer is not module memory");
  }
  int (***where)(void *) = vfs->opv_desc_vector_p;
  struct opv_rec *r = vector_at(where);
  if (r == NULL) {
    if (*where != NULL && !vfs_vector_known(*where, NULL))
      refuse("the vector pointer is set, to memory the kernel did not give");
    int saved = clkm_current_module;
    clkm_current_module = -1;
    r = malloc(sizeof *r, M_TEMP, M_WAITOK | M_ZERO);
    r->vector = malloc(NUMOPS * sizeof(int (*)(void *)), M_TEMP, M_WAITOK | M_ZERO);
    clkm_current_module = saved;
    r->where = where;
    r->module = module;
    LIST_INSERT_HEAD(&vectors, r, list);
  }
  *where = r->vector;
  struct vnodeopv_entry_desc *e = vfs->opv_desc_ops;
  for (int n = 0;; n++, e++) {
    if (n >= 4 * NUMOPS) refuse("the operation table has no end");
    if (module != -1 && !clkm_in_module_image(e, sizeof *e))
      refuse("the operation table is not module memory");
    if (e->opve_op == NULL) break;
    int found = 0;
    for (int i = 0; i < NUMOPS; i++) found |= vfs_op_descs[i] == e->opve_op;
    if (!found) refuse("an entry names an operation descriptor the kernel does not have");
    r->vector[e->opve_op->vdesc_offset] = e->opve_impl;
  }
}

static void opv_init_default(struct vnodeopv_desc *vfs, int module) {
  if (module != -1 && !clkm_in_module_image(vfs, sizeof *vfs))
    refuse("the vnodeopv_desc is not module memory");
  struct opv_rec *r = vector_at(vfs->opv_desc_vector_p);
  if (r == NULL) refuse("vfs_opv_init_default before vfs_opv_init_explicit");
  if (r->vector[0] == NULL) refuse("operation vector without default routine");
  for (int i = 1; i < NUMOPS; i++) {
    if (r->vector[i] == NULL) r->vector[i] = r->vector[0];
  }
}

void vfs_opv_init_explicit(struct vnodeopv_desc *vfs) {
  opv_init_explicit(vfs, clkm_current_module >= 0 ? clkm_current_module : -2);
}

void vfs_opv_init_default(struct vnodeopv_desc *vfs) {
  opv_init_default(vfs, clkm_current_module >= 0 ? clkm_current_module : -2);
}

/* The kernel's own file systems build their vectors with this. */
void vfs_opv_init_kernel(struct vnodeopv_desc *vfs) {
  opv_init_explicit(vfs, -1);
  opv_init_default(vfs, -1);
}

/* ---- File system types ---- */

/* One registered file system type. */
struct vfs_rec {
  LIST_ENTRY(vfs_rec) list;
  struct vfsconf *vfc; /* the module's, inside its image */
  struct vfsops *ops;  /* likewise */
  char name[MFSNAMELEN];
  int typenum;
  unsigned mounts;
  int module;
};
static LIST_HEAD(, vfs_rec) vfs_list = LIST_HEAD_INITIALIZER(vfs_list);

struct vfs_rec *vfs_rec_byname(const char *name) {
  struct vfs_rec *r;
  LIST_FOREACH(r, &vfs_list, list) {
    if (strncmp(r->name, name, MFSNAMELEN) == 0) return r;
  }
  return NULL;
}

/* A type record for one of the kernel's own file systems (not in the list modules see). */
struct vfs_rec *vfs_rec_kernel(struct vfsconf *vfc) {
  int saved = clkm_current_module;
  clkm_current_module = -1;
  struct vfs_rec *r = malloc(sizeof *r, M_TEMP, M_NOWAIT | M_ZERO);
  clkm_current_module = saved;
  if (r == NULL) return NULL;
  r->vfc = vfc;
  r->ops = vfc->vfc_vfsops;
  strlcpy(r->name, vfc->vfc_name, sizeof r->name);
  r->typenum = vfc->vfc_typenum;
  r->module = -1;
  return r;
}

struct vfsconf *vfs_byname(const char *name) {
  struct vfs_rec *r = vfs_rec_byname(name);
  return r != NULL ? r->vfc : NULL;
}

/* What mount(2) needs of a type: its operations, checked to be inside the module's image. */
int vfs_rec_info(struct vfs_rec *r, struct vfsops **ops, struct vfsconf **vfc, int *module,
                 const char **name) {
  if (r->module >= 0 && (!clkm_in_module_image(r->ops, sizeof *r->ops) ||
                         !clkm_in_module_image(r->vfc, sizeof *r->vfc)))
    return EFAULT;
  *ops = r->ops;
  *vfc = r->vfc;
  *module = r->module;
  *name = r->name;
  return 0;
}

void vfs_rec_mounted(struct vfs_rec *r, int delta) {
  if (delta < 0 && r->mounts == 0) return;
  r->mounts += delta;
  if (r->module < 0 || clkm_in_module_image(r->vfc, sizeof *r->vfc)) r->vfc->vfc_refcount = r->mounts;
}

static int in_table_image(const struct lkm_table *t, const void *p, size_t len) {
  unsigned long a = (unsigned long)p;
  return a >= t->area && len <= t->size && a - t->area <= t->size - len;
}

/* LM_VFS: registers the module's vfsconf by name (LKM_E_LOAD) or takes it out (LKM_E_UNLOAD,
 * EBUSY while mounted). Called from the module's DISPATCH, in its guarded call. */
int clkm_vfs_handler(struct lkm_table *lkmtp, int cmd) {
  struct lkm_vfs *args = lkmtp->private.lkm_vfs;
  if (!in_table_image(lkmtp, args, sizeof *args)) return EFAULT;
  struct vfsconf *vfc = args->lkm_vfsconf;
  switch (cmd) {
  case LKM_E_LOAD: {
    if (lkmexists(lkmtp)) return EEXIST;
    if (!in_table_image(lkmtp, vfc, sizeof *vfc)) return EFAULT;
    int terminated = 0;
    for (int i = 0; i < MFSNAMELEN; i++) terminated |= vfc->vfc_name[i] == 0;
    if (!terminated || vfc->vfc_name[0] == 0) return EINVAL;
    if (vfs_rec_byname(vfc->vfc_name) != NULL) return EEXIST;
    struct vfsops *ops = vfc->vfc_vfsops;
    if (!in_table_image(lkmtp, ops, sizeof *ops)) return EFAULT;
    int saved = clkm_current_module;
    clkm_current_module = -1;
    struct vfs_rec *r = malloc(sizeof *r, M_TEMP, M_NOWAIT | M_ZERO);
    clkm_current_module = saved;
    if (r == NULL) return ENOMEM;
    r->vfc = vfc;
    r->ops = ops;
    memcpy(r->name, vfc->vfc_name, sizeof r->name);
    r->typenum = vfc->vfc_typenum;
    r->module = lkmtp->id;
    /* In registration order. */
    struct vfs_rec *last = LIST_FIRST(&vfs_list);
    while (last != NULL && LIST_NEXT(last, list) != NULL) last = LIST_NEXT(last, list);
    if (last == NULL) {
      LIST_INSERT_HEAD(&vfs_list, r, list);
    } else {
      r->list.le_next = NULL;
      r->list.le_prev = &last->list.le_next;
      last->list.le_next = r;
    }
    vfc->vfc_refcount = 0;
    if (ops->vfs_init != NULL) {
      int callable;
      int owner = clkm_code_owner((void *)ops->vfs_init, &callable);
      if (!callable || owner != lkmtp->id) {
        clkm_logf("lkm: vfsops of '%s': vfs_init %p is not module code\n", r->name,
                  (void *)ops->vfs_init);
        LIST_REMOVE(r, list);
        free(r, M_TEMP);
        return EFAULT;
      }
      /* Within the module's own guarded call (its entry's DISPATCH). */
      ops->vfs_init(vfc);
    }
    return 0;
  }
  case LKM_E_UNLOAD: {
    struct vfs_rec *r;
    LIST_FOREACH(r, &vfs_list, list) {
      if (r->vfc == vfc && r->module == lkmtp->id) break;
    }
    if (r == NULL) return ENOENT;
    if (r->mounts != 0) return EBUSY;
    LIST_REMOVE(r, list);
    free(r, M_TEMP);
    return 0;
  }
  default:
    return 0;
  }
}

/* The types and vectors of module id (its mounts went first: vfs_subr.c). */
void clkm_vfs_forget(int id) {
  struct vfs_rec *r, *next;
  LIST_FOREACH_SAFE(r, &vfs_list, list, next) {
    if (r->module == id) {
      LIST_REMOVE(r, list);
      free(r, M_TEMP);
    }
  }
  struct opv_rec *v, *vnext;
  LIST_FOREACH_SAFE(v, &vectors, list, vnext) {
    if (v->module == id) {
      LIST_REMOVE(v, list);
      free(v->vector, M_TEMP);
      free(v, M_TEMP);
    }
  }
}

/* For the audit: the module of a registered type whose vfsconf is not inside its module's image
 * any more (the module went without unregistering it), noted in the audit's report; -1 if
 * none. */
int vfs_find_stale(void) {
  struct vfs_rec *r;
  LIST_FOREACH(r, &vfs_list, list) {
    struct lkm_table *t = clkm_table_containing(r->vfc);
    if (r->module >= 0 && (t == NULL || t->id != r->module)) {
      clkm_audit_note("file system '%s' belonged to a module that is gone: removed", r->name);
      return r->module;
    }
  }
  return -1;
}

int clkm_vfs_count(void) {
  int n = 0;
  struct vfs_rec *r;
  LIST_FOREACH(r, &vfs_list, list) n++;
  return n;
}

/* The index-th registered type: its name (16 bytes), type number, mounts and module. */
int clkm_vfs_at(int index, char *name, int *typenum, unsigned *refcount, int *module) {
  struct vfs_rec *r = LIST_FIRST(&vfs_list);
  for (int i = 0; r != NULL && i < index; i++) r = LIST_NEXT(r, list);
  if (r == NULL || index < 0) return ENOENT;
  memcpy(name, r->name, MFSNAMELEN);
  *typenum = r->typenum;
  *refcount = r->mounts;
  *module = r->module;
  return 0;
}

size_t clkm_vfs_init_exports(clkm_export_t *table, size_t room) {
  CLKM_EXPORTS(table, room, CLKM_FUNC("vfs_opv_init_explicit", vfs_opv_init_explicit),
               CLKM_FUNC("vfs_opv_init_default", vfs_opv_init_default),
               CLKM_FUNC("vfs_byname", vfs_byname), CLKM_DATA("vfs_opv_numops", &vfs_opv_numops),
               CLKM_DATA("vop_default_desc", &vop_default_desc),
               CLKM_DATA("vop_islocked_desc", &vop_islocked_desc),
               CLKM_DATA("vop_lookup_desc", &vop_lookup_desc),
               CLKM_DATA("vop_create_desc", &vop_create_desc),
               CLKM_DATA("vop_mknod_desc", &vop_mknod_desc),
               CLKM_DATA("vop_open_desc", &vop_open_desc),
               CLKM_DATA("vop_close_desc", &vop_close_desc),
               CLKM_DATA("vop_access_desc", &vop_access_desc),
               CLKM_DATA("vop_getattr_desc", &vop_getattr_desc),
               CLKM_DATA("vop_setattr_desc", &vop_setattr_desc),
               CLKM_DATA("vop_read_desc", &vop_read_desc),
               CLKM_DATA("vop_write_desc", &vop_write_desc),
               CLKM_DATA("vop_ioctl_desc", &vop_ioctl_desc),
               CLKM_DATA("vop_poll_desc", &vop_poll_desc),
               CLKM_DATA("vop_kqfilter_desc", &vop_kqfilter_desc),
               CLKM_DATA("vop_revoke_desc", &vop_revoke_desc),
               CLKM_DATA("vop_fsync_desc", &vop_fsync_desc),
               CLKM_DATA("vop_remove_desc", &vop_remove_desc),
               CLKM_DATA("vop_link_desc", &vop_link_desc),
               CLKM_DATA("vop_rename_desc", &vop_rename_desc),
               CLKM_DATA("vop_mkdir_desc", &vop_mkdir_desc),
               CLKM_DATA("vop_rmdir_desc", &vop_rmdir_desc),
               CLKM_DATA("vop_symlink_desc", &vop_symlink_desc),
               CLKM_DATA("vop_readdir_desc", &vop_readdir_desc),
               CLKM_DATA("vop_readlink_desc", &vop_readlink_desc),
               CLKM_DATA("vop_abortop_desc", &vop_abortop_desc),
               CLKM_DATA("vop_inactive_desc", &vop_inactive_desc),
               CLKM_DATA("vop_reclaim_desc", &vop_reclaim_desc),
               CLKM_DATA("vop_lock_desc", &vop_lock_desc),
               CLKM_DATA("vop_unlock_desc", &vop_unlock_desc),
               CLKM_DATA("vop_bmap_desc", &vop_bmap_desc),
               CLKM_DATA("vop_print_desc", &vop_print_desc),
               CLKM_DATA("vop_pathconf_desc", &vop_pathconf_desc),
               CLKM_DATA("vop_advlock_desc", &vop_advlock_desc),
               CLKM_DATA("vop_strategy_desc", &vop_strategy_desc),
               CLKM_DATA("vop_bwrite_desc", &vop_bwrite_desc));
}
