/* Processes: the kernel's struct proc of each client process (found by pid, made at its first
 * request, freed when lkmd says its last session ended and no request of it is running), proc0
 * for what the kernel does on its own; and the system calls about processes and the kernel:
 * getpid, getuid, geteuid, getgid, getegid, __sysctl. Written against the module headers
 * (kern_local.h). */
#include "kern_local.h"

/* A process as the kernel keeps it. */
struct kproc {
  struct proc p; /* what system calls and modules see; first */
  LIST_ENTRY(kproc) list;
  gid_t gid;
  int running; /* requests of it in progress */
  int exiting; /* its last session ended */
};

#define PROC_HASH 64
static LIST_HEAD(prochead, kproc) procs[PROC_HASH];
static int nprocs;
#define MAX_PROCS 4096

static struct kproc proc0 = {.p = {.p_pid = 0, .p_uid = 0, .p_comm = "kernel"}};

void fdfree(struct proc *p);
int fdinit(struct proc *p);

static struct kproc *find(pid_t pid) {
  struct kproc *k;
  LIST_FOREACH(k, &procs[(unsigned)pid % PROC_HASH], list) {
    if (k->p.p_pid == pid) return k;
  }
  return NULL;
}

static void release(struct kproc *k) {
  LIST_REMOVE(k, list);
  nprocs--;
  fdfree(&k->p);
  int saved = clkm_current_module;
  clkm_current_module = -1;
  free(k, M_TEMP);
  clkm_current_module = saved;
}

/* The current thread now works for process pid (made if new); its requests count until
 * clkm_proc_leave. 0, or ENOMEM / EAGAIN (too many processes). */
int clkm_proc_enter(int pid, unsigned uid, unsigned gid, const char *comm) {
  if (pid <= 0) {
    clkm_set_current_proc(&proc0.p);
    return 0;
  }
  struct kproc *k = find(pid);
  if (k == NULL) {
    if (nprocs >= MAX_PROCS) return EAGAIN;
    int saved = clkm_current_module;
    clkm_current_module = -1;
    k = malloc(sizeof *k, M_TEMP, M_NOWAIT | M_ZERO);
    clkm_current_module = saved;
    if (k == NULL) return ENOMEM;
    k->p.p_pid = pid;
    if (fdinit(&k->p) != 0) {
      clkm_current_module = -1;
      free(k, M_TEMP);
      clkm_current_module = saved;
      return ENOMEM;
    }
    LIST_INSERT_HEAD(&procs[(unsigned)pid % PROC_HASH], k, list);
    nprocs++;
  }
  /* A pid the host reused after lkmd saw the last one go is a new process; a live one keeps
   * its table (two sessions of one process share it). */
  k->exiting = 0;
  k->p.p_uid = uid;
  k->gid = gid;
  strlcpy(k->p.p_comm, comm, sizeof k->p.p_comm);
  k->running++;
  clkm_set_current_proc(&k->p);
  return 0;
}

/* The request that clkm_proc_enter began is over. */
void clkm_proc_leave(void) {
  struct proc *p = clkm_current_proc();
  clkm_set_current_proc(&proc0.p);
  struct kproc *k = p != NULL ? find(p->p_pid) : NULL;
  if (k == NULL || &k->p != p) return;
  if (k->running > 0) k->running--;
  if (k->running == 0 && k->exiting) release(k);
}

/* Process pid has no session with lkmd any more: its files are closed when its last request
 * ends (now, if none runs). */
void clkm_proc_exit(int pid) {
  struct kproc *k = find(pid);
  if (k == NULL) return;
  k->exiting = 1;
  if (k->running == 0) release(k);
}

/* How many processes the kernel keeps (for tests and the status). */
int clkm_proc_count(void) { return nprocs; }

/* Every process's files are closed (the kernel is stopping). */
void clkm_proc_exit_all(void) {
  for (int i = 0; i < PROC_HASH; i++) {
    struct kproc *k, *next;
    LIST_FOREACH_SAFE(k, &procs[i], list, next) {
      k->exiting = 1;
      if (k->running == 0) release(k);
    }
  }
}

struct proc *clkm_proc0(void) { return &proc0.p; }

gid_t clkm_proc_gid(struct proc *p) {
  struct kproc *k = p != NULL ? find(p->p_pid) : NULL;
  return k != NULL && &k->p == p ? k->gid : 0;
}

/* ---- System calls ---- */

int sys_getpid(struct proc *p, void *v, register_t *retval) {
  (void)v;
  retval[0] = p->p_pid;
  return 0;
}

int sys_getuid(struct proc *p, void *v, register_t *retval) {
  (void)v;
  retval[0] = p->p_uid;
  return 0;
}

int sys_geteuid(struct proc *p, void *v, register_t *retval) { return sys_getuid(p, v, retval); }

int sys_getgid(struct proc *p, void *v, register_t *retval) {
  (void)v;
  retval[0] = clkm_proc_gid(p);
  return 0;
}

int sys_getegid(struct proc *p, void *v, register_t *retval) { return sys_getgid(p, v, retval); }

/* A string variable: copied out NUL-terminated (ENOMEM if *oldlenp is short, with the length
 * needed stored); a new value (newp) only where `writable` (of at most size - 1 bytes). */
static int sysctl_string(void *oldp, size_t *oldlenp, void *newp, size_t newlen, char *value,
                         size_t size, int writable) {
  size_t len = strlen(value) + 1;
  int error = 0;
  if (oldp != NULL) {
    if (*oldlenp < len) {
      *oldlenp = len;
      return ENOMEM;
    }
    if ((error = copyout(value, oldp, len)) != 0) return error;
  }
  *oldlenp = len;
  if (newp != NULL) {
    if (!writable) return EPERM;
    if (newlen >= size) return EINVAL;
    char buf[MAXHOSTNAMELEN];
    if (newlen > sizeof buf - 1) return EINVAL;
    if ((error = copyin(newp, buf, newlen)) != 0) return error;
    buf[newlen] = 0;
    memcpy(value, buf, newlen + 1);
  }
  return 0;
}

static int sysctl_int(void *oldp, size_t *oldlenp, void *newp, size_t newlen, int *value,
                      int writable) {
  int error;
  if (oldp != NULL) {
    if (*oldlenp < sizeof(int)) return ENOMEM;
    if ((error = copyout(value, oldp, sizeof(int))) != 0) return error;
  }
  *oldlenp = sizeof(int);
  if (newp != NULL) {
    if (!writable) return EPERM;
    if (newlen != sizeof(int)) return EINVAL;
    int v;
    if ((error = copyin(newp, &v, sizeof v)) != 0) return error;
    *value = v;
  }
  return 0;
}

/* __sysctl(2) for the kern variables. kern.securelevel may only be raised (the supervisor, which
 * keeps the level that counts, checks it before the call reaches the kernel). */
int sys___sysctl(struct proc *p, void *v, register_t *retval) {
  struct sys___sysctl_args *uap = v;
  (void)p;
  (void)retval;
  u_int namelen = SCARG(uap, namelen);
  if (namelen < 1 || namelen > CTL_MAXNAME) return EINVAL;
  int name[CTL_MAXNAME];
  int error = copyin(SCARG(uap, name), name, namelen * sizeof(int));
  if (error) return error;
  size_t oldlen = 0;
  size_t *oldlenp = SCARG(uap, oldlenp);
  if (oldlenp != NULL && (error = copyin(oldlenp, &oldlen, sizeof oldlen)) != 0) return error;
  void *oldp = oldlenp != NULL ? SCARG(uap, old) : NULL;
  void *newp = SCARG(uap, new);
  size_t newlen = SCARG(uap, newlen);
  if (name[0] != CTL_KERN) return EOPNOTSUPP;
  if (namelen != 2) return ENOTDIR;
  static char ostype[] = "lkm";
  static char osrelease[] = "1.0";
  int level = securelevel;
  switch (name[1]) {
  case KERN_OSTYPE:
    error = sysctl_string(oldp, &oldlen, newp, newlen, ostype, sizeof ostype, 0);
    break;
  case KERN_OSRELEASE:
    error = sysctl_string(oldp, &oldlen, newp, newlen, osrelease, sizeof osrelease, 0);
    break;
  case KERN_VERSION:
    error = sysctl_string(oldp, &oldlen, newp, newlen, version, 256, 0);
    break;
  case KERN_HOSTNAME:
    error = sysctl_string(oldp, &oldlen, newp, newlen, hostname, MAXHOSTNAMELEN, 1);
    break;
  case KERN_SECURELVL:
    error = sysctl_int(oldp, &oldlen, newp, newlen, &level, 1);
    if (error == 0 && newp != NULL) {
      if (level < securelevel) return EPERM;
      securelevel = level;
    }
    break;
  case KERN_CLOCKRATE: {
    struct clockinfo ci = {hz, 1000000 / hz, 0, hz, hz};
    if (newp != NULL) return EPERM;
    if (oldp != NULL) {
      if (oldlen < sizeof ci) return ENOMEM;
      if ((error = copyout(&ci, oldp, sizeof ci)) != 0) return error;
    }
    oldlen = sizeof ci;
    break;
  }
  default:
    return EOPNOTSUPP;
  }
  if (oldlenp != NULL) {
    int e = copyout(&oldlen, oldlenp, sizeof oldlen);
    if (error == 0) error = e;
  }
  return error;
}

/* Whether the current thread serves a request of the module interface (an exclusive session:
 * the open of /dev/lkm lkmd grants one at a time, for modload, modunload and modstat): only
 * those may load and unload, and their open of /dev/lkm is the supervisor's grant, not the
 * node's mode; a process that opens the node itself gets LMSTAT only. */
static __thread int device_request;

void clkm_set_device_request(int on) { device_request = on; }

int clkm_device_request(void) { return device_request; }
