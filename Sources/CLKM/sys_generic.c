/* The descriptor system calls of OpenBSD's sys_generic.c: read, write, pread, pwrite, ioctl,
 * poll; and selrecord(9)/selwakeup(9), through which a driver's d_poll says it is not ready and
 * wakes the polls that wait. Written against the module headers (kern_local.h). */
#include "kern_local.h"

struct file *fd_ref(struct proc *p, int fd);
int frele(struct file *fp, struct proc *p);
char *file_path(struct file *fp);
void vfs_set_context(const char *what);

/* For the oopses of calls made under this system call: "read of /dev/pipe0". */
static void context(const char *call, struct file *fp) {
  char text[128];
  snprintf(text, sizeof text, "%s of %s", call, file_path(fp));
  vfs_set_context(text);
}

/* One read or write of nbyte at buf through the file's operations; *offset is the file's
 * offset (read(2), write(2)) or the caller's (pread(2), pwrite(2)). */
static int dofilerw(struct proc *p, struct file *fp, void *buf, size_t nbyte, off_t *offset,
                    int write, register_t *retval) {
  if ((long)nbyte < 0) return EINVAL;
  struct iovec iov = {buf, nbyte};
  struct uio uio = {&iov, 1, *offset, nbyte, UIO_USERSPACE, write ? UIO_WRITE : UIO_READ, p};
  int error = write ? fp->f_ops->fo_write(fp, offset, &uio, fp->f_cred)
                    : fp->f_ops->fo_read(fp, offset, &uio, fp->f_cred);
  size_t done = nbyte - uio.uio_resid;
  /* An interrupted transfer that moved something reports what it moved. */
  if (error && done != 0 && (error == EINTR || error == EWOULDBLOCK)) error = 0;
  retval[0] = (register_t)done;
  return error;
}

static int rw(struct proc *p, int fd, void *buf, size_t nbyte, off_t *at, int write,
              register_t *retval) {
  struct file *fp = fd_ref(p, fd);
  if (fp == NULL) return EBADF;
  int error;
  if ((fp->f_flag & (write ? FWRITE : FREAD)) == 0) {
    error = EBADF;
  } else {
    context(write ? "write" : "read", fp);
    if (at != NULL) {
      struct vnode *vp = fp->f_type == DTYPE_VNODE ? fp->f_data : NULL;
      /* As OpenBSD's: a device is read at the offset given (a FIFO cannot be). */
      if (vp == NULL || vp->v_type == VFIFO) error = ESPIPE;
      else if (*at < 0) error = EINVAL;
      else error = dofilerw(p, fp, buf, nbyte, at, write, retval);
    } else {
      error = dofilerw(p, fp, buf, nbyte, &fp->f_offset, write, retval);
    }
  }
  frele(fp, p);
  return error;
}

int sys_read(struct proc *p, void *v, register_t *retval) {
  struct sys_read_args *uap = v;
  return rw(p, SCARG(uap, fd), SCARG(uap, buf), SCARG(uap, nbyte), NULL, 0, retval);
}

int sys_write(struct proc *p, void *v, register_t *retval) {
  struct sys_write_args *uap = v;
  return rw(p, SCARG(uap, fd), (void *)SCARG(uap, buf), SCARG(uap, nbyte), NULL, 1, retval);
}

int sys_pread(struct proc *p, void *v, register_t *retval) {
  struct sys_pread_args *uap = v;
  off_t at = SCARG(uap, offset);
  return rw(p, SCARG(uap, fd), SCARG(uap, buf), SCARG(uap, nbyte), &at, 0, retval);
}

int sys_pwrite(struct proc *p, void *v, register_t *retval) {
  struct sys_pwrite_args *uap = v;
  off_t at = SCARG(uap, offset);
  return rw(p, SCARG(uap, fd), (void *)SCARG(uap, buf), SCARG(uap, nbyte), &at, 1, retval);
}

/* ioctl(2): the argument copied in (IOC_IN) into a kernel buffer of IOCPARM_LEN bytes, or its
 * value given (IOC_VOID), and copied back out (IOC_OUT), as OpenBSD's. */
int sys_ioctl(struct proc *p, void *v, register_t *retval) {
  struct sys_ioctl_args *uap = v;
  (void)retval;
  struct file *fp = fd_ref(p, SCARG(uap, fd));
  if (fp == NULL) return EBADF;
  int error = 0;
  u_long com = SCARG(uap, com);
  size_t size = IOCPARM_LEN(com);
  if ((fp->f_flag & (FREAD | FWRITE)) == 0) error = EBADF;
  else if (size > IOCPARM_MAX) error = ENOTTY;
  if (error) {
    frele(fp, p);
    return error;
  }
  context("ioctl", fp);
  union {
    char bytes[IOCPARM_MAX];
    void *pointer;
    long l;
  } buf;
  char *data = buf.bytes;
  memset(data, 0, size > sizeof(void *) ? size : sizeof(void *));
  if (com & IOC_IN) {
    if (size) error = copyin(SCARG(uap, data), data, size);
    else *(void **)data = SCARG(uap, data);
  } else if ((com & IOC_VOID) || size == 0) {
    *(void **)data = SCARG(uap, data);
  }
  if (error == 0) {
    switch (com) {
    case FIONBIO:
      if (*(int *)data) fp->f_flag |= FNONBLOCK;
      else fp->f_flag &= ~FNONBLOCK;
      error = fp->f_ops->fo_ioctl(fp, FIONBIO, data, p);
      if (error == ENOTTY) error = 0;
      break;
    default:
      error = fp->f_ops->fo_ioctl(fp, com, data, p);
      if (error == 0 && (com & IOC_OUT) && size) error = copyout(data, SCARG(uap, data), size);
      break;
    }
  }
  frele(fp, p);
  return error;
}

/* ---- selrecord and selwakeup ---- */

/* A poll(2) waiting: what it sleeps on. */
struct pollwait {
  int woken;
};

/* Who is recorded on a selinfo: kept by the kernel, keyed by the selinfo's address. */
struct selrec {
  LIST_ENTRY(selrec) list;
  const struct selinfo *sip;
  struct pollwait *w;
};
static LIST_HEAD(, selrec) selrecs = LIST_HEAD_INITIALIZER(selrecs);
static __thread struct pollwait *polling;

void selrecord(struct proc *selector, struct selinfo *sip) {
  if (polling == NULL || sip == NULL) return;
  struct selrec *r;
  LIST_FOREACH(r, &selrecs, list) {
    if (r->sip == sip && r->w == polling) return;
  }
  int saved = clkm_current_module;
  clkm_current_module = -1;
  r = malloc(sizeof *r, M_TEMP, M_NOWAIT | M_ZERO);
  clkm_current_module = saved;
  if (r == NULL) return;
  r->sip = sip;
  r->w = polling;
  LIST_INSERT_HEAD(&selrecs, r, list);
  /* The module's own record of who polled (OpenBSD's si_selpid); the kernel does not read it. */
  if (clkm_in_module_image(sip, sizeof *sip)) {
    if (sip->si_selpid != 0 && selector != NULL && sip->si_selpid != selector->p_pid)
      sip->si_flags |= SI_COLL;
    sip->si_selpid = selector != NULL ? selector->p_pid : 0;
  }
}

void selwakeup(struct selinfo *sip) {
  int locked = clkm_kernel_lock_held();
  if (!locked) clkm_kernel_lock();
  struct selrec *r;
  LIST_FOREACH(r, &selrecs, list) {
    if (r->sip == sip && !r->w->woken) {
      r->w->woken = 1;
      wakeup(r->w);
    }
  }
  if (!locked) clkm_kernel_unlock();
}

static void forget_records(struct pollwait *w) {
  struct selrec *r, *next;
  LIST_FOREACH_SAFE(r, &selrecs, list, next) {
    if (r->w == w) {
      LIST_REMOVE(r, list);
      free(r, M_TEMP);
    }
  }
}

#define POLL_MAX 1024

/* poll(2): each descriptor's VOP_POLL (a driver's d_poll), then, when none is ready and the
 * timeout allows, a sleep until a selwakeup on what was recorded, the timeout, or the
 * client going away (EINTR). */
int sys_poll(struct proc *p, void *v, register_t *retval) {
  struct sys_poll_args *uap = v;
  u_int nfds = SCARG(uap, nfds);
  int msec = SCARG(uap, timeout);
  if (nfds > POLL_MAX) return EINVAL;
  struct pollfd *pl = NULL;
  size_t sz = nfds * sizeof(struct pollfd);
  int error = 0;
  if (nfds > 0) {
    int saved = clkm_current_module;
    clkm_current_module = -1;
    pl = malloc(sz, M_TEMP, M_WAITOK);
    clkm_current_module = saved;
    if ((error = copyin(SCARG(uap, fds), pl, sz)) != 0) {
      free(pl, M_TEMP);
      return error;
    }
  }
  int timo = msec < 0 ? 0 : (int)(((long)msec * hz + 999) / 1000);
  if (msec > 0 && timo == 0) timo = 1;
  int deadline = ticks + timo;
  struct pollwait w;
  int ready;
  for (;;) {
    w.woken = 0;
    polling = &w;
    ready = 0;
    for (u_int i = 0; i < nfds; i++) {
      pl[i].revents = 0;
      if (pl[i].fd < 0) continue;
      struct file *fp = fd_ref(p, pl[i].fd);
      if (fp == NULL) {
        pl[i].revents = POLLNVAL;
        ready++;
        continue;
      }
      context("poll", fp);
      int events = pl[i].events | POLLERR | POLLHUP;
      pl[i].revents = (short)(fp->f_ops->fo_poll(fp, events, p) & (pl[i].events | POLLERR | POLLHUP | POLLNVAL));
      frele(fp, p);
      if (pl[i].revents != 0) ready++;
    }
    polling = NULL;
    if (ready != 0 || msec == 0) break;
    if (msec > 0 && ticks - deadline >= 0) break;
    if (!w.woken) {
      int left = msec < 0 ? 0 : deadline - ticks;
      if (msec > 0 && left <= 0) break;
      error = tsleep(&w, PSOCK | PCATCH, "poll", left);
    }
    forget_records(&w);
    if (error == EWOULDBLOCK) {
      error = 0;
      break;
    }
    if (error) break;
  }
  forget_records(&w);
  if (error == 0 && nfds > 0) error = copyout(pl, SCARG(uap, fds), sz);
  if (pl != NULL) free(pl, M_TEMP);
  retval[0] = ready;
  return error;
}

size_t clkm_generic_exports(clkm_export_t *table, size_t room) {
  CLKM_EXPORTS(table, room, CLKM_FUNC("selrecord", selrecord), CLKM_FUNC("selwakeup", selwakeup));
}
