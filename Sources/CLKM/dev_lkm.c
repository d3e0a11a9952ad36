/* The lkm driver's ioctls (character major 28, /dev/lkm; OpenBSD's lkmioctl in kern_lkm.c):
 * LMSTAT from the module records, LMUNLOAD and LMLOADOBJ through the Swift kernel's hooks
 * (it links and unlinks). Everything but LMSTAT needs the device open for writing and a
 * securelevel of 0 or less, as on OpenBSD. Written against the module headers (kern_local.h). */
#include "kern_local.h"

void clkm_devsw_set_ioctl(int major, int (*ioctl)(dev_t, u_long, caddr_t, int, struct proc *));

static int (*load_hook)(unsigned long token, int *id);
static int (*unload_hook)(int id, const char *name);
static int (*stat_hook)(int id, const char *name, int *resolved);

/* The Swift kernel's: link and load the staged request `token`; unload module id (or name);
 * look a module up by id or name (OpenBSD's errnos) and call its LKM_E_STAT. */
void clkm_set_lkm_hooks(int (*load)(unsigned long, int *), int (*unload)(int, const char *),
                        int (*stat)(int, const char *, int *)) {
  load_hook = load;
  unload_hook = unload;
  stat_hook = stat;
}


static struct lkm_table *find(int id, const char *name) {
  for (struct lkm_table *t = lkm_list(NULL); t != NULL; t = lkm_list(t)) {
    if (id >= 0 ? t->id == id : name != NULL && t->private.lkm_any != NULL &&
                                    clkm_in_module_image(t->private.lkm_any,
                                                         sizeof *t->private.lkm_any) &&
                                    strncmp(t->private.lkm_any->lkm_name, name, MAXLKMNAME) == 0)
      return t;
  }
  return NULL;
}

static int lkmioctl(dev_t dev, u_long cmd, caddr_t data, int flags, struct proc *p) {
  (void)dev;
  (void)p;
  if (cmd != LMSTAT) {
    if (securelevel > 0) return EPERM;
    if (!(flags & FWRITE)) return EPERM;
    if (!clkm_device_request()) return EPERM;
  }
  switch (cmd) {
  case LMSTAT: {
    struct lmc_stat *statp = (struct lmc_stat *)data;
    char name[MAXLKMNAME];
    int id = statp->id;
    if (id < -1) return EINVAL;
    if (id == -1) {
      size_t done;
      int error = copyinstr(statp->name, name, sizeof name, &done);
      if (error) return error;
    }
    /* The lookup's errnos and the module's LKM_E_STAT are the kernel's (the Swift side). */
    int resolved = id;
    if (stat_hook != NULL) {
      int error = stat_hook(id, id == -1 ? name : NULL, &resolved);
      if (error) return error;
    }
    struct lkm_table *t = find(resolved, NULL);
    if (t == NULL) return ENOENT;
    struct lkm_any *any = t->private.lkm_any;
    if (any == NULL || !clkm_in_module_image(any, sizeof *any)) return EFAULT;
    char modname[MAXLKMNAME];
    size_t done;
    if (copyinstr(any->lkm_name, modname, sizeof modname - 2, &done) != 0)
      strlcpy(modname, "?", sizeof modname);
    int error = copyout(modname, statp->name, strlen(modname) + 1);
    if (error) return error;
    statp->id = t->id;
    statp->area = t->area;
    statp->size = t->size / PAGE_SIZE;
    statp->private = (u_long)any;
    statp->offset = any->lkm_offset;
    statp->type = any->lkm_type;
    statp->ver = LKM_VERSION;
    return 0;
  }
  case LMUNLOAD: {
    struct lmc_unload *unloadp = (struct lmc_unload *)data;
    char name[MAXLKMNAME];
    if (unloadp->id == -1) {
      size_t done;
      int error = copyinstr(unloadp->name, name, sizeof name, &done);
      if (error) return error;
    }
    if (unload_hook == NULL) return ENODEV;
    int error = unload_hook(unloadp->id, unloadp->id == -1 ? name : NULL);
    unloadp->status = error;
    return error;
  }
  case LMLOADOBJ: {
    struct lmc_loadobj *loadp = (struct lmc_loadobj *)data;
    if (load_hook == NULL) return ENODEV;
    int id = -1;
    int error = load_hook(loadp->token, &id);
    loadp->status = error;
    loadp->id = id;
    return error;
  }
  case LMRESERV:
  case LMRESERV_O:
  case LMLOADBUF:
  case LMUNRESRV:
  case LMREADY:
  case LMLOAD:
  case LMLOADSYMS:
    return EOPNOTSUPP;
  default:
    return ENOTTY;
  }
}

void clkm_devlkm_init(void) { clkm_devsw_set_ioctl(28, lkmioctl); }
