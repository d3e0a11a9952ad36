/* Device special files (OpenBSD's spec_vnops.c): the vnode operations that call a driver's
 * entry points in cdevsw and bdevsw. A character device's read and write go to d_read and
 * d_write with the caller's uio (one call each, as read(2) and write(2) make); a block device's
 * are turned into whole DEV_BSIZE blocks through d_strategy (a write of part of a block reads it
 * first). d_open is called at every open, d_close when the last open of the device closes.
 * Written against the module headers (kern_local.h).
 *
 * A driver's entry point is called guarded, on behalf of the module whose code it is; an entry
 * that is NULL or a placeholder (enodev, lkmenodev) is ENODEV; one that is neither module code
 * nor the kernel's is EFAULT, with a line in the message buffer. */
#include "kern_local.h"

int vnode_rdev(struct vnode *vp, dev_t *rdev);
const char *vfs_context(void);
int clkm_callable(const void *function);

/* Opens of each device, for d_close at the last. */
struct devopen {
  LIST_ENTRY(devopen) list;
  dev_t dev;
  int block;
  int count;
};
static LIST_HEAD(, devopen) opens = LIST_HEAD_INITIALIZER(opens);

static struct devopen *devopen_find(dev_t dev, int block, int make) {
  struct devopen *d;
  LIST_FOREACH(d, &opens, list) {
    if (d->dev == dev && d->block == block) return d;
  }
  if (!make) return NULL;
  int saved = clkm_current_module;
  clkm_current_module = -1;
  d = malloc(sizeof *d, M_TEMP, M_NOWAIT | M_ZERO);
  clkm_current_module = saved;
  if (d == NULL) return NULL;
  d->dev = dev;
  d->block = block;
  LIST_INSERT_HEAD(&opens, d, list);
  return d;
}

/* One call of a driver entry point, for the guarded thunks. */
struct devcall {
  int block;
  int major;
  dev_t dev;
  void *fn;
  /* arguments */
  int flags;
  struct uio *uio;
  u_long cmd;
  caddr_t data;
  struct buf *bp;
  int events;
  int result;
};

typedef int (*open_fn)(dev_t, int, int, struct proc *);
typedef int (*rw_fn)(dev_t, struct uio *, int);
typedef int (*ioctl_fn)(dev_t, u_long, caddr_t, int, struct proc *);
typedef int (*poll_fn)(dev_t, int, struct proc *);
typedef void (*strategy_fn)(struct buf *);

static int open_thunk(void *v) {
  struct devcall *c = v;
  c->result = ((open_fn)c->fn)(c->dev, c->flags, c->block ? S_IFBLK : S_IFCHR, clkm_current_proc());
  return 0;
}
static int rw_thunk(void *v) {
  struct devcall *c = v;
  c->result = ((rw_fn)c->fn)(c->dev, c->uio, c->flags);
  return 0;
}
static int ioctl_thunk(void *v) {
  struct devcall *c = v;
  c->result = ((ioctl_fn)c->fn)(c->dev, c->cmd, c->data, c->flags, clkm_current_proc());
  return 0;
}
static int poll_thunk(void *v) {
  struct devcall *c = v;
  c->result = ((poll_fn)c->fn)(c->dev, c->events, clkm_current_proc());
  return 0;
}
static int strategy_thunk(void *v) {
  struct devcall *c = v;
  ((strategy_fn)c->fn)(c->bp);
  c->result = 0;
  return 0;
}

/* The entry point `what` of the device's switch entry, checked: 0 with c->fn set, ENODEV for
 * NULL or a placeholder (when `required`; 0 with c->fn NULL otherwise), ENXIO for a major
 * beyond the switch, EFAULT (logged) for a pointer the kernel may not call. */
static int entry(struct devcall *c, dev_t dev, int block, const char *what, int required) {
  memset(c, 0, sizeof *c);
  c->block = block;
  c->dev = dev;
  c->major = major(dev);
  if (c->major < 0 || c->major >= (block ? nblkdev : nchrdev)) return ENXIO;
  void *fn = NULL;
  if (block) {
    struct bdevsw *b = &kern_bdevsw[c->major];
    if (strcmp(what, "d_open") == 0) fn = (void *)b->d_open;
    else if (strcmp(what, "d_close") == 0) fn = (void *)b->d_close;
    else if (strcmp(what, "d_strategy") == 0) fn = (void *)b->d_strategy;
    else if (strcmp(what, "d_ioctl") == 0) fn = (void *)b->d_ioctl;
  } else {
    struct cdevsw *d = &kern_cdevsw[c->major];
    if (strcmp(what, "d_open") == 0) fn = (void *)d->d_open;
    else if (strcmp(what, "d_close") == 0) fn = (void *)d->d_close;
    else if (strcmp(what, "d_read") == 0) fn = (void *)d->d_read;
    else if (strcmp(what, "d_write") == 0) fn = (void *)d->d_write;
    else if (strcmp(what, "d_ioctl") == 0) fn = (void *)d->d_ioctl;
    else if (strcmp(what, "d_poll") == 0) fn = (void *)d->d_poll;
  }
  if (fn == NULL || clkm_placeholder(fn)) return required ? ENODEV : 0;
  if (!clkm_callable(fn) && !clkm_devsw_kernel_driver(block, c->major, fn)) {
    clkm_logf("lkm: %s[%d].%s %p is not module code\n", block ? "bdevsw" : "cdevsw", c->major,
              what, fn);
    return EFAULT;
  }
  c->fn = fn;
  return 0;
}

/* Calls c->fn through thunk: directly for the kernel's drivers, guarded for a module's. */
static int call(struct devcall *c, const char *what, int (*thunk)(void *)) {
  unsigned long a = (unsigned long)c->fn;
  int owner = clkm_in_module_text(a) ? clkm_module_at(a) : -1;
  if (owner < 0) {
    thunk(c);
    return c->result;
  }
  char during[160];
  const char *context = vfs_context();
  /* "read of /dev/fault (cdevsw[11])": the request, then the driver; without a request's
   * context, "d_read of cdevsw[11]". */
  if (context[0])
    snprintf(during, sizeof during, "%s (%s[%d])", context, c->block ? "bdevsw" : "cdevsw",
             c->major);
  else
    snprintf(during, sizeof during, "%s of %s[%d]", what, c->block ? "bdevsw" : "cdevsw",
             c->major);
  clkm_set_activity(during);
  int error = clkm_module_call(owner, thunk, c);
  return error ? error : c->result;
}

static int device(struct vnode *vp, dev_t *dev, int *block) {
  int error = vnode_rdev(vp, dev);
  if (error) return error;
  *block = vp->v_type == VBLK;
  return 0;
}

int spec_open(void *v) {
  struct vop_open_args *ap = v;
  dev_t dev;
  int block, error;
  if ((error = device(ap->a_vp, &dev, &block)) != 0) return error;
  struct devcall c;
  if ((error = entry(&c, dev, block, "d_open", 1)) != 0) return error;
  c.flags = ap->a_mode;
  if ((error = call(&c, "d_open", open_thunk)) != 0) return error;
  struct devopen *d = devopen_find(dev, block, 1);
  if (d != NULL) d->count++;
  return 0;
}

int spec_close(void *v) {
  struct vop_close_args *ap = v;
  dev_t dev;
  int block, error;
  if ((error = device(ap->a_vp, &dev, &block)) != 0) return error;
  struct devopen *d = devopen_find(dev, block, 0);
  if (d != NULL && --d->count > 0) return 0;
  if (d != NULL) {
    LIST_REMOVE(d, list);
    free(d, M_TEMP);
  }
  struct devcall c;
  if ((error = entry(&c, dev, block, "d_close", 0)) != 0 || c.fn == NULL) return error;
  c.flags = ap->a_fflag;
  return call(&c, "d_close", open_thunk);
}

/* One block through d_strategy: 0 with *got (the bytes the driver moved), or an errno. */
static int strategy(dev_t dev, int read, daddr_t blkno, char *data, size_t *got) {
  struct devcall c;
  int error = entry(&c, dev, 1, "d_strategy", 1);
  if (error) return error;
  struct buf bp;
  memset(&bp, 0, sizeof bp);
  bp.b_flags = read ? B_READ : B_WRITE;
  bp.b_dev = dev;
  bp.b_bcount = DEV_BSIZE;
  bp.b_data = data;
  bp.b_blkno = blkno;
  bp.b_proc = clkm_current_proc();
  c.bp = &bp;
  if ((error = call(&c, "d_strategy", strategy_thunk)) != 0) return error;
  if (!(bp.b_flags & B_DONE)) {
    clkm_logf("lkm: bdevsw[%d].d_strategy returned without biodone\n", c.major);
    return EIO;
  }
  if (bp.b_flags & B_ERROR) return bp.b_error > 0 ? bp.b_error : EIO;
  size_t resid = bp.b_resid > DEV_BSIZE ? DEV_BSIZE : bp.b_resid;
  *got = DEV_BSIZE - resid;
  return 0;
}

static int block_read(dev_t dev, struct uio *uio) {
  char block[DEV_BSIZE];
  int error = 0;
  while (uio->uio_resid > 0) {
    if (uio->uio_offset < 0) return EINVAL;
    u_int64_t at = (u_int64_t)uio->uio_offset;
    size_t in = at % DEV_BSIZE, got = 0;
    if ((error = strategy(dev, 1, (daddr_t)(at / DEV_BSIZE), block, &got)) != 0) break;
    if (got <= in) break;
    size_t n = got - in;
    if (n > uio->uio_resid) n = uio->uio_resid;
    if ((error = uiomove(block + in, n, uio)) != 0) break;
    if (got < DEV_BSIZE) break;
  }
  return error;
}

static int block_write(dev_t dev, struct uio *uio) {
  char block[DEV_BSIZE];
  int error = 0;
  size_t done = 0;
  while (uio->uio_resid > 0) {
    if (uio->uio_offset < 0) return EINVAL;
    u_int64_t at = (u_int64_t)uio->uio_offset;
    daddr_t blkno = (daddr_t)(at / DEV_BSIZE);
    size_t in = at % DEV_BSIZE, got = 0;
    size_t n = DEV_BSIZE - in;
    if (n > uio->uio_resid) n = uio->uio_resid;
    if (n != DEV_BSIZE) { /* part of a block: read, modify, write */
      if ((error = strategy(dev, 1, blkno, block, &got)) != 0) break;
      if (got < DEV_BSIZE) {
        if (done == 0) error = ENOSPC;
        break;
      }
    }
    if ((error = uiomove(block + in, n, uio)) != 0) break;
    if ((error = strategy(dev, 0, blkno, block, &got)) != 0) break;
    if (got < DEV_BSIZE) {
      /* Not written after all: the uio is put back by the caller's count. */
      uio->uio_resid += n;
      uio->uio_offset -= (off_t)n;
      if (done == 0) error = ENOSPC;
      break;
    }
    done += n;
  }
  return error;
}

int spec_read(void *v) {
  struct vop_read_args *ap = v;
  dev_t dev;
  int block, error;
  if ((error = device(ap->a_vp, &dev, &block)) != 0) return error;
  if (ap->a_uio->uio_resid == 0) return 0;
  if (block) return block_read(dev, ap->a_uio);
  struct devcall c;
  if ((error = entry(&c, dev, 0, "d_read", 1)) != 0) return error;
  c.uio = ap->a_uio;
  c.flags = ap->a_ioflag;
  return call(&c, "d_read", rw_thunk);
}

int spec_write(void *v) {
  struct vop_write_args *ap = v;
  dev_t dev;
  int block, error;
  if ((error = device(ap->a_vp, &dev, &block)) != 0) return error;
  if (block) return block_write(dev, ap->a_uio);
  struct devcall c;
  if ((error = entry(&c, dev, 0, "d_write", 1)) != 0) return error;
  c.uio = ap->a_uio;
  c.flags = ap->a_ioflag;
  return call(&c, "d_write", rw_thunk);
}

int spec_ioctl(void *v) {
  struct vop_ioctl_args *ap = v;
  dev_t dev;
  int block, error;
  if ((error = device(ap->a_vp, &dev, &block)) != 0) return error;
  struct devcall c;
  if ((error = entry(&c, dev, block, "d_ioctl", 1)) != 0) return error == ENODEV ? ENOTTY : error;
  c.cmd = ap->a_command;
  c.data = ap->a_data;
  c.flags = ap->a_fflag;
  return call(&c, "d_ioctl", ioctl_thunk);
}

int spec_poll(void *v) {
  struct vop_poll_args *ap = v;
  dev_t dev;
  int block;
  if (device(ap->a_vp, &dev, &block) != 0) return POLLNVAL;
  int ready = ap->a_events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
  if (block) return ready;
  struct devcall c;
  int error = entry(&c, dev, 0, "d_poll", 0);
  if (error) return POLLERR;
  if (c.fn == NULL) return ready; /* seltrue: always ready */
  c.events = ap->a_events;
  c.result = 0;
  /* call() answers the driver's result when the call returned (here the events, not an
   * errno), the fault's EFAULT when it did not. */
  if (call(&c, "d_poll", poll_thunk) != c.result) return POLLERR;
  return c.result & (ap->a_events | POLLERR | POLLHUP | POLLNVAL);
}

int spec_fsync(void *v) {
  (void)v;
  return 0;
}

int spec_inactive(void *v) {
  struct vop_inactive_args *ap = v;
  return VOP_UNLOCK(ap->a_vp, 0, ap->a_p);
}

int spec_reclaim(void *v) {
  (void)v;
  return 0;
}

/* The opens of a module's devices are forgotten with the module (no d_close: its code is
 * gone). */
void spec_forget(void) {
  struct devopen *d, *next;
  LIST_FOREACH_SAFE(d, &opens, list, next) {
    int owner;
    if (clkm_devsw_state(d->block, major(d->dev), &owner) == 1) {
      LIST_REMOVE(d, list);
      free(d, M_TEMP);
    }
  }
}

size_t clkm_spec_exports(clkm_export_t *table, size_t room) {
  CLKM_EXPORTS(table, room, CLKM_FUNC("spec_open", spec_open), CLKM_FUNC("spec_close", spec_close),
               CLKM_FUNC("spec_read", spec_read), CLKM_FUNC("spec_write", spec_write),
               CLKM_FUNC("spec_ioctl", spec_ioctl), CLKM_FUNC("spec_poll", spec_poll),
               CLKM_FUNC("spec_fsync", spec_fsync), CLKM_FUNC("spec_inactive", spec_inactive),
               CLKM_FUNC("spec_reclaim", spec_reclaim));
}
