/* The device switches: bdevsw and cdevsw with OpenBSD/amd64's sizes and free majors, the
 * built-in console, memory and lkm drivers, the LM_DEV handler (a port of _lkm_dev in OpenBSD's
 * sys/kern/kern_lkm.c), and the functions drivers call: uiomove, biodone, lkmenodev, enodev,
 * nullop. Device special files (spec_vnops.c) call the drivers. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>


extern char __start_clkm_modapi[], __stop_clkm_modapi[];

#define MAX_IDS 4096
#define FREAD 0x0001
#define FWRITE 0x0002
#define S_IFCHR 0020000
#define S_IFBLK 0060000

/* The module that installed each entry (-1: the kernel), and the pristine tables. */
static int bdev_owner[CLKM_NBLKDEV], cdev_owner[CLKM_NCHRDEV];
static struct clkm_bdevsw bdev_initial[CLKM_NBLKDEV];
static struct clkm_cdevsw cdev_initial[CLKM_NCHRDEV];
/* The owner of the entry a module replaced, restored with it at unload. */
static int replaced_owner[MAX_IDS];

/* ---- The process requests run for ---- */


/* ---- Placeholders and functions drivers call ---- */

CLKM_MODAPI int clkm_lkmenodev(void) { return CLKM_ENODEV; }
CLKM_MODAPI int clkm_enodev(void) { return CLKM_ENODEV; }
CLKM_MODAPI int clkm_nullop(void *v) {
  (void)v;
  return 0;
}
CLKM_MODAPI int clkm_eopnotsupp(void *v) {
  (void)v;
  return CLKM_EOPNOTSUPP;
}

/* uiomove(9), as OpenBSD's sys/kern/kern_subr.c: the caller's buffers are UIO_USERSPACE and
 * are reached with copyin/copyout, so a bad address is EFAULT. */
CLKM_MODAPI int clkm_uiomove(void *cp, size_t n, struct clkm_uio *uio) {
  int error = 0;
  if (uio->uio_rw != CLKM_UIO_READ && uio->uio_rw != CLKM_UIO_WRITE)
    clkm_guard_panic("uiomove: mode", __builtin_return_address(0));
  while (n > 0 && uio->uio_resid > 0) {
    if (uio->uio_iovcnt <= 0) break;
    struct clkm_iovec *iov = uio->uio_iov;
    size_t cnt = iov->iov_len;
    if (cnt == 0) {
      uio->uio_iov++;
      uio->uio_iovcnt--;
      continue;
    }
    if (cnt > n) cnt = n;
    if (uio->uio_segflg == CLKM_UIO_USERSPACE) {
      error = uio->uio_rw == CLKM_UIO_READ ? clkm_copyout(cp, iov->iov_base, cnt)
                                           : clkm_copyin(iov->iov_base, cp, cnt);
      if (error) return error;
    } else if (uio->uio_rw == CLKM_UIO_READ) {
      memmove(iov->iov_base, cp, cnt);
    } else {
      memmove(cp, iov->iov_base, cnt);
    }
    iov->iov_base = (char *)iov->iov_base + cnt;
    iov->iov_len -= cnt;
    uio->uio_resid -= cnt;
    uio->uio_offset += (clkm_off_t)cnt;
    cp = (char *)cp + cnt;
    n -= cnt;
  }
  return error;
}

CLKM_MODAPI void clkm_biodone(struct clkm_buf *bp) { bp->b_flags |= CLKM_B_DONE; }

CLKM_MODAPI void clkm_microtime(struct clkm_timeval *tv) {
  struct timeval now;
  gettimeofday(&now, NULL);
  tv->tv_sec = now.tv_sec;
  tv->tv_usec = now.tv_usec;
}

CLKM_MODAPI void clkm_nanotime(struct clkm_timespec *ts) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  ts->tv_sec = now.tv_sec;
  ts->tv_nsec = now.tv_nsec;
}

/* Copies the message buffer, oldest first, into buf; returns its whole length. An lkm addition
 * (kernfs's msgbuf file). */
CLKM_MODAPI size_t clkm_msgbuf_copy(char *buf, size_t size) {
  size_t total = clkm_msgbuf_read(NULL, 0);
  if (buf != NULL && size > 0) {
    char *all = malloc(total + 1);
    if (all != NULL) {
      clkm_msgbuf_read(all, total);
      memcpy(buf, all, total < size ? total : size);
      free(all);
    }
  }
  return total;
}


/* Whether an entry point is a placeholder that fails with ENODEV without being called. */
int clkm_placeholder(const void *function) {
  return function == (const void *)clkm_lkmenodev || function == (const void *)clkm_enodev;
}

/* ---- Built-in drivers: console (0), memory (2: null, zero), lkm (28) ---- */

CLKM_MODAPI static int cn_rw(clkm_dev_t dev, struct clkm_uio *uio, int flag) {
  (void)dev;
  (void)flag;
  if (uio->uio_rw == CLKM_UIO_READ) return 0;
  char chunk[512];
  while (uio->uio_resid > 0) {
    size_t n = uio->uio_resid < sizeof chunk ? uio->uio_resid : sizeof chunk;
    int error = clkm_uiomove(chunk, n, uio);
    if (error) return error;
    clkm_msgbuf_append(chunk, n);
    clkm_console_write(chunk, n);
  }
  return 0;
}

CLKM_MODAPI static int mm_open(clkm_dev_t dev, int flag, int mode, struct clkm_proc *p) {
  (void)flag;
  (void)mode;
  (void)p;
  int m = (dev & 0xff) | ((dev & 0xffff0000) >> 8);
  return m == 2 || m == 12 ? 0 : CLKM_ENXIO;
}

CLKM_MODAPI static int mm_rw(clkm_dev_t dev, struct clkm_uio *uio, int flag) {
  (void)flag;
  int m = (dev & 0xff) | ((dev & 0xffff0000) >> 8);
  if (m == 2 || uio->uio_rw == CLKM_UIO_WRITE) { /* /dev/null; writes to /dev/zero vanish */
    if (uio->uio_rw == CLKM_UIO_WRITE) {
      uio->uio_offset += (clkm_off_t)uio->uio_resid;
      uio->uio_resid = 0;
    }
    return 0;
  }
  static const char zeros[4096];
  while (uio->uio_resid > 0) {
    size_t n = uio->uio_resid < sizeof zeros ? uio->uio_resid : sizeof zeros;
    int error = clkm_uiomove((void *)zeros, n, uio);
    if (error) return error;
  }
  return 0;
}

CLKM_MODAPI static int lkm_open(clkm_dev_t dev, int flag, int mode, struct clkm_proc *p) {
  (void)flag;
  (void)mode;
  (void)p;
  return (dev & 0xff) == 0 ? 0 : CLKM_ENXIO;
}

#define ENODEV_FN(type) ((type)(void (*)(void))clkm_enodev)
#define LKMENODEV_FN(type) ((type)(void (*)(void))clkm_lkmenodev)
typedef int (*open_fn)(clkm_dev_t, int, int, struct clkm_proc *);
typedef int (*rw_fn)(clkm_dev_t, struct clkm_uio *, int);
typedef int (*ioctl_fn)(clkm_dev_t, unsigned long, char *, int, struct clkm_proc *);
typedef void (*strategy_fn)(struct clkm_buf *);

static struct clkm_cdevsw cdev_notdef(void) {
  struct clkm_cdevsw c;
  memset(&c, 0, sizeof c);
  c.d_open = ENODEV_FN(open_fn);
  c.d_close = ENODEV_FN(open_fn);
  c.d_read = ENODEV_FN(rw_fn);
  c.d_write = ENODEV_FN(rw_fn);
  c.d_ioctl = ENODEV_FN(ioctl_fn);
  return c;
}

static struct clkm_cdevsw cdev_lkm_dummy(void) {
  struct clkm_cdevsw c = cdev_notdef();
  c.d_open = LKMENODEV_FN(open_fn);
  return c;
}

static struct clkm_bdevsw bdev_notdef(void) {
  struct clkm_bdevsw b;
  memset(&b, 0, sizeof b);
  b.d_open = ENODEV_FN(open_fn);
  b.d_close = ENODEV_FN(open_fn);
  b.d_strategy = ENODEV_FN(strategy_fn);
  b.d_ioctl = ENODEV_FN(ioctl_fn);
  return b;
}

static struct clkm_bdevsw bdev_lkm_dummy(void) {
  struct clkm_bdevsw b = bdev_notdef();
  b.d_open = LKMENODEV_FN(open_fn);
  return b;
}

int clkm_devsw_init(void) {
  clkm_dd->nblkdev = CLKM_NBLKDEV;
  clkm_dd->nchrdev = CLKM_NCHRDEV;
  for (int i = 0; i < CLKM_NBLKDEV; i++) {
    int free_major = (i >= 8 && i <= 13) || i == 15 || i == 18;
    clkm_dd->bdevsw[i] = free_major ? bdev_lkm_dummy() : bdev_notdef();
  }
  for (int i = 0; i < CLKM_NCHRDEV; i++) {
    int free_major = i == 11 || (i >= 29 && i <= 34);
    clkm_dd->cdevsw[i] = free_major ? cdev_lkm_dummy() : cdev_notdef();
  }
  struct clkm_cdevsw cn = cdev_notdef();
  cn.d_open = (open_fn)(void (*)(void))clkm_nullop;
  cn.d_close = (open_fn)(void (*)(void))clkm_nullop;
  cn.d_read = cn_rw;
  cn.d_write = cn_rw;
  cn.d_type = 2; /* D_TTY */
  clkm_dd->cdevsw[0] = cn;
  struct clkm_cdevsw mm = cdev_notdef();
  mm.d_open = mm_open;
  mm.d_close = (open_fn)(void (*)(void))clkm_nullop;
  mm.d_read = mm_rw;
  mm.d_write = mm_rw;
  clkm_dd->cdevsw[2] = mm;
  struct clkm_cdevsw lkm = cdev_notdef();
  lkm.d_open = lkm_open;
  lkm.d_close = (open_fn)(void (*)(void))clkm_nullop;
  clkm_dd->cdevsw[28] = lkm;
  memcpy(bdev_initial, clkm_dd->bdevsw, sizeof bdev_initial);
  memcpy(cdev_initial, clkm_dd->cdevsw, sizeof cdev_initial);
  for (int i = 0; i < CLKM_NBLKDEV; i++) bdev_owner[i] = -1;
  for (int i = 0; i < CLKM_NCHRDEV; i++) cdev_owner[i] = -1;
  for (int i = 0; i < MAX_IDS; i++) replaced_owner[i] = -1;
  return 0;
}

int clkm_ndevsw(int block) { return block ? CLKM_NBLKDEV : CLKM_NCHRDEV; }

int clkm_devsw_state(int block, int major, int *owner) {
  *owner = -1;
  if (major < 0 || major >= clkm_ndevsw(block)) return -1;
  *owner = block ? bdev_owner[major] : cdev_owner[major];
  void *open = block ? (void *)clkm_dd->bdevsw[major].d_open : (void *)clkm_dd->cdevsw[major].d_open;
  return open == (void *)clkm_lkmenodev;
}

/* ---- LM_DEV: install or restore one switch entry ---- */

static int in_table_image(const struct lkm_table *t, const void *p, size_t len) {
  uintptr_t a = (uintptr_t)p;
  return a >= t->area && len <= t->size && a - t->area <= t->size - len;
}

/* Whether module id is still loaded and holds the function (an entry saved by a later module
 * may point into a module that has gone since). */
static int owner_alive(int id, const void *function) {
  if (id < 0) return 1;
  struct lkm_table *t = clkm_table_containing(function);
  return t != NULL && t->id == id;
}

CLKM_MODAPI int clkm_dev_handler(struct lkm_table *lkmtp, int cmd) {
  struct lkm_dev *args = (struct lkm_dev *)lkmtp->private.lkm_any;
  if (!in_table_image(lkmtp, args, sizeof *args)) return CLKM_EFAULT;
  int id = lkmtp->id;
  int i;
  switch (cmd) {
  case 1: /* LKM_E_LOAD */
    if (clkm_lkmexists(lkmtp)) return CLKM_EEXIST;
    i = (int)args->lkm_offset;
    switch (args->lkm_devtype) {
    case CLKM_LM_DT_BLOCK:
      if (!in_table_image(lkmtp, args->lkm_dev.bdev, sizeof(struct clkm_bdevsw))) return CLKM_EFAULT;
      if (i == -1) {
        for (i = 0; i < CLKM_NBLKDEV; i++)
          if (clkm_dd->bdevsw[i].d_open == LKMENODEV_FN(open_fn)) break;
      } else if (i < 0 || i >= CLKM_NBLKDEV) {
        return CLKM_EINVAL;
      }
      if (i == CLKM_NBLKDEV) return CLKM_ENFILE;
      args->lkm_olddev.bdev = clkm_dd->bdevsw[i];
      clkm_dd->bdevsw[i] = *args->lkm_dev.bdev;
      if (id >= 0 && id < MAX_IDS) replaced_owner[id] = bdev_owner[i];
      bdev_owner[i] = id;
      break;
    case CLKM_LM_DT_CHAR:
      if (!in_table_image(lkmtp, args->lkm_dev.cdev, sizeof(struct clkm_cdevsw))) return CLKM_EFAULT;
      if (i == -1) {
        for (i = 0; i < CLKM_NCHRDEV; i++)
          if (clkm_dd->cdevsw[i].d_open == LKMENODEV_FN(open_fn)) break;
      } else if (i < 0 || i >= CLKM_NCHRDEV) {
        return CLKM_EINVAL;
      }
      if (i == CLKM_NCHRDEV) return CLKM_ENFILE;
      args->lkm_olddev.cdev = clkm_dd->cdevsw[i];
      clkm_dd->cdevsw[i] = *args->lkm_dev.cdev;
      if (id >= 0 && id < MAX_IDS) replaced_owner[id] = cdev_owner[i];
      cdev_owner[i] = id;
      break;
    default:
      return CLKM_ENODEV;
    }
    args->lkm_offset = (unsigned long)i;
    return 0;
  case 2: /* LKM_E_UNLOAD */
    i = (int)args->lkm_offset;
    {
      int previous = id >= 0 && id < MAX_IDS ? replaced_owner[id] : -1;
      switch (args->lkm_devtype) {
      case CLKM_LM_DT_BLOCK:
        if (i < 0 || i >= CLKM_NBLKDEV) return CLKM_EINVAL;
        if (owner_alive(previous, (void *)args->lkm_olddev.bdev.d_open)) {
          clkm_dd->bdevsw[i] = args->lkm_olddev.bdev;
          bdev_owner[i] = previous;
        } else {
          clkm_dd->bdevsw[i] = bdev_initial[i];
          bdev_owner[i] = -1;
        }
        break;
      case CLKM_LM_DT_CHAR:
        if (i < 0 || i >= CLKM_NCHRDEV) return CLKM_EINVAL;
        if (owner_alive(previous, (void *)args->lkm_olddev.cdev.d_open)) {
          clkm_dd->cdevsw[i] = args->lkm_olddev.cdev;
          cdev_owner[i] = previous;
        } else {
          clkm_dd->cdevsw[i] = cdev_initial[i];
          cdev_owner[i] = -1;
        }
        break;
      default:
        return CLKM_ENODEV;
      }
      if (id >= 0 && id < MAX_IDS) replaced_owner[id] = -1;
    }
    return 0;
  default:
    return 0;
  }
}

void clkm_devsw_forget(int id) {
  if (id < 0) return;
  for (int i = 0; i < CLKM_NBLKDEV; i++) {
    if (bdev_owner[i] == id) {
      clkm_dd->bdevsw[i] = bdev_initial[i];
      bdev_owner[i] = -1;
    }
  }
  for (int i = 0; i < CLKM_NCHRDEV; i++) {
    if (cdev_owner[i] == id) {
      clkm_dd->cdevsw[i] = cdev_initial[i];
      cdev_owner[i] = -1;
    }
  }
  if (id < MAX_IDS) replaced_owner[id] = -1;
}

/* ---- The audit: entries whose functions are neither the kernel's nor a loaded module's ---- */

static int live(const void *function) {
  return function == NULL || clkm_is_live_code((uint64_t)(uintptr_t)function);
}

static int cdev_live(const struct clkm_cdevsw *d) {
  return live((void *)d->d_open) && live((void *)d->d_close) && live((void *)d->d_read) &&
         live((void *)d->d_write) && live((void *)d->d_ioctl) && live((void *)d->d_stop) &&
         live((void *)d->d_tty) && live((void *)d->d_poll) && live((void *)d->d_mmap) &&
         live((void *)d->d_kqfilter);
}

static int bdev_live(const struct clkm_bdevsw *d) {
  return live((void *)d->d_open) && live((void *)d->d_close) && live((void *)d->d_strategy) &&
         live((void *)d->d_ioctl) && live((void *)d->d_dump) && live((void *)d->d_psize);
}

void clkm_audit_devsw(void) {
  for (int i = 0; i < CLKM_NCHRDEV; i++) {
    if (!cdev_live(&clkm_dd->cdevsw[i])) {
      clkm_audit_note("cdevsw[%d] pointed into memory no loaded module owns: restored", i);
      clkm_dd->cdevsw[i] = cdev_initial[i];
      cdev_owner[i] = -1;
    }
  }
  for (int i = 0; i < CLKM_NBLKDEV; i++) {
    if (!bdev_live(&clkm_dd->bdevsw[i])) {
      clkm_audit_note("bdevsw[%d] pointed into memory no loaded module owns: restored", i);
      clkm_dd->bdevsw[i] = bdev_initial[i];
      bdev_owner[i] = -1;
    }
  }
}

/* A built-in driver's d_ioctl, set by the file that implements it (dev_lkm.c): in the table
 * and in its boot copy, which the audit restores from. */
void clkm_devsw_set_ioctl(int major, int (*ioctl)(clkm_dev_t, unsigned long, char *, int,
                                                  struct clkm_proc *)) {
  if (major < 0 || major >= CLKM_NCHRDEV) return;
  clkm_dd->cdevsw[major].d_ioctl = ioctl;
  cdev_initial[major].d_ioctl = ioctl;
}

/* Whether fn is an entry point of the kernel's own driver at `major` (as installed at boot,
 * /dev/lkm's lkmioctl included): the switch may call it although it is not exported. */
int clkm_devsw_kernel_driver(int block, int major, const void *fn) {
  if (fn == NULL || major < 0) return 0;
  if (block) {
    if (major >= CLKM_NBLKDEV) return 0;
    const struct clkm_bdevsw *b = &bdev_initial[major];
    return fn == (const void *)b->d_open || fn == (const void *)b->d_close ||
           fn == (const void *)b->d_strategy || fn == (const void *)b->d_ioctl;
  }
  if (major >= CLKM_NCHRDEV) return 0;
  const struct clkm_cdevsw *c = &cdev_initial[major];
  return fn == (const void *)c->d_open || fn == (const void *)c->d_close ||
         fn == (const void *)c->d_read || fn == (const void *)c->d_write ||
         fn == (const void *)c->d_ioctl || fn == (const void *)c->d_poll;
}

/* ---- Exported symbols of the device, file system and exec layers ---- */

size_t clkm_conf_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("uiomove", clkm_uiomove),
      CLKM_FUNC("biodone", clkm_biodone),
      CLKM_FUNC("lkmenodev", clkm_lkmenodev),
      CLKM_FUNC("enodev", clkm_enodev),
      CLKM_FUNC("nullop", clkm_nullop),
      CLKM_FUNC("eopnotsupp", clkm_eopnotsupp),
      CLKM_FUNC("microtime", clkm_microtime),
      CLKM_FUNC("nanotime", clkm_nanotime),
      CLKM_FUNC("msgbuf_copy", clkm_msgbuf_copy),
      CLKM_DATA("bdevsw", clkm_dd->bdevsw),
      CLKM_DATA("cdevsw", clkm_dd->cdevsw),
      CLKM_DATA("nblkdev", &clkm_dd->nblkdev),
      CLKM_DATA("nchrdev", &clkm_dd->nchrdev),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
