/* The sandbox's filter and limits. See include/lkmsandbox.h. */
#define _GNU_SOURCE
#include "lkmsandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct lkmsb_filter {
  struct sock_fprog program;
};

/* Killed outright: nothing a loader or an honest module does. */
static const char *const killed[] = {
    "execve", "execveat",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "ptrace", "process_vm_readv", "process_vm_writev",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
    "setfsgid", "setgroups", "capset",
    "unshare", "setns",
    "creat", "truncate", "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir",
    "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat",
    "chown", "fchown", "lchown", "fchownat", "mknod", "mknodat",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "move_mount", "open_tree",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "sethostname", "setdomainname",
    /* io_uring performs opens, socket calls and writes in the kernel, where no filter sees
     * them: with it every rule above is void. */
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    /* More file-system changes: by handle (any path, any flags, to whoever has
     * CAP_DAC_READ_SEARCH), mode, extended attributes, times; the newer mount calls. */
    "open_by_handle_at", "name_to_handle_at", "fchmodat2", "setxattr", "lsetxattr", "fsetxattr",
    "removexattr", "lremovexattr", "fremovexattr", "utime", "utimes", "utimensat", "futimesat",
    "fspick", "fsconfig", "mount_setattr", "quotactl", "quotactl_fd",
    /* The machine's clock, I/O ports, the kernel log, every file's opens. */
    "adjtimex", "clock_adjtime", "iopl", "ioperm", "syslog", "fanotify_init", "vhangup",
};

/* x86-64 numbers of calls too new for the libseccomp of Debian 12 (2.5.4) to name, killed as
 * the names above are: setxattrat (463), removexattrat (466), open_tree_attr (467). */
static const int killed_numbers[] = {463, 466, 467};

/* The open flags that mean writing (or creating, truncating) a file. */
static const unsigned long write_flags[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND};


static int build(scmp_filter_ctx ctx) {
  int rc;
  for (size_t i = 0; i < sizeof killed / sizeof killed[0]; i++) {
    int nr = seccomp_syscall_resolve_name(killed[i]);
    if (nr == __NR_SCMP_ERROR) continue; /* not on this architecture */
    if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, nr, 0, NULL)) < 0) return rc;
  }
  for (size_t i = 0; i < sizeof killed_numbers / sizeof killed_numbers[0]; i++) {
    /* A libseccomp that names the call already has the rule (EEXIST): not an error. */
    rc = seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, killed_numbers[i], 0, NULL);
    if (rc < 0 && rc != -EEXIST) return rc;
  }
  for (size_t i = 0; i < sizeof write_flags / sizeof write_flags[0]; i++) {
    struct scmp_arg_cmp open_arg = SCMP_A1(SCMP_CMP_MASKED_EQ, write_flags[i], write_flags[i]);
    struct scmp_arg_cmp openat_arg = SCMP_A2(SCMP_CMP_MASKED_EQ, write_flags[i], write_flags[i]);
    if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(open), 1, &open_arg)) < 0)
      return rc;
    if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(openat), 1,
                                     &openat_arg)) < 0)
      return rc;
  }
  /* clone(flags, ...): any namespace flag. (Each flag on its own: one masked test each.) */
  unsigned long flags[] = {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                           CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
    struct scmp_arg_cmp arg = SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]);
    if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1, &arg)) < 0)
      return rc;
  }
  if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL)) < 0)
    return rc;
  if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2), 0, NULL)) < 0)
    return rc;
  return 0;
}

/* ---- The kernel process's filter ---- */

/* What the kernel process never does, whoever asks (its own code, the C library on a module's
 * behalf with --host-symbols): run programs, trace or reach into other processes, change its
 * identity, namespaces, mounts or the machine. */
static const char *const kernel_denied[] = {
    "execve", "execveat", "fork", "vfork",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_send_signal", "pidfd_getfd",
    "tkill",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
    "setfsgid", "setgroups", "capset",
    "unshare", "setns",
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "move_mount", "open_tree",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "sethostname", "setdomainname",
    /* io_uring makes socket calls (and anything else) in the kernel, out of a filter's sight. */
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "fspick", "fsconfig", "mount_setattr", "adjtimex", "clock_adjtime", "iopl", "ioperm",
};

static int build_kernel(scmp_filter_ctx ctx) {
  int rc;
  for (size_t i = 0; i < sizeof kernel_denied / sizeof kernel_denied[0]; i++) {
    int nr = seccomp_syscall_resolve_name(kernel_denied[i]);
    if (nr == __NR_SCMP_ERROR) continue;
    if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_TRAP, nr, 0, NULL)) < 0) return rc;
  }
  /* Signals only to itself. */
  scmp_datum_t self = (scmp_datum_t)getpid();
  struct scmp_arg_cmp other = SCMP_A0(SCMP_CMP_NE, self);
  const char *const signalling[] = {"kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"};
  for (size_t i = 0; i < sizeof signalling / sizeof signalling[0]; i++) {
    int nr = seccomp_syscall_resolve_name(signalling[i]);
    if (nr == __NR_SCMP_ERROR) continue;
    if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_TRAP, nr, 1, &other)) < 0) return rc;
  }
  /* clone only for threads (no new process: a fork of the kernel would be a second kernel). */
  struct scmp_arg_cmp process = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
  if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_TRAP, SCMP_SYS(clone), 1, &process)) < 0)
    return rc;
  /* clone3's flags are out of a filter's reach: ENOSYS, and the C library falls back to
   * clone. */
  if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL)) < 0)
    return rc;
  return 0;
}

static lkmsb_filter_t *compile(int (*rules)(scmp_filter_ctx), uint32_t bad_arch) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, bad_arch);
  /* no_new_privs is set by lkmsb_enter / lkmsb_filter_self, before the filter. */
  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc == 0) rc = rules(ctx);
  /* Compile once: export the BPF to a memory file and keep the instructions. */
  int fd = -1;
  if (rc == 0) {
    fd = memfd_create("lkm-seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0) rc = -errno;
  }
  if (rc == 0) rc = seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  if (rc != 0) {
    if (fd >= 0) close(fd);
    errno = -rc;
    return NULL;
  }
  off_t size = lseek(fd, 0, SEEK_END);
  lkmsb_filter_t *filter = calloc(1, sizeof *filter);
  struct sock_filter *code = size > 0 ? malloc((size_t)size) : NULL;
  if (filter == NULL || code == NULL || size % sizeof(struct sock_filter) != 0 ||
      pread(fd, code, (size_t)size, 0) != size) {
    close(fd);
    free(filter);
    free(code);
    errno = EIO;
    return NULL;
  }
  close(fd);
  filter->program.len = (unsigned short)(size / sizeof(struct sock_filter));
  filter->program.filter = code;
  return filter;
}

lkmsb_filter_t *lkmsb_filter_new(void) { return compile(build, SCMP_ACT_KILL_PROCESS); }

lkmsb_filter_t *lkmsb_kernel_filter_new(void) { return compile(build_kernel, SCMP_ACT_TRAP); }

/* ---- The instruction-pointer filter ----
 *
 * A classic-BPF program libseccomp cannot write (it compares only the call number and its
 * arguments): SECCOMP_RET_TRAP, with LKMSB_IP_FILTER_DATA in si_errno, for every system call
 * whose instruction pointer lies in one of the ranges; SECCOMP_RET_ALLOW for the rest (the
 * other filters decide those). struct seccomp_data is { int nr; u32 arch; u64
 * instruction_pointer; u64 args[6]; }: the instruction pointer is the 32-bit words at offsets
 * 8 (low) and 12 (high), BPF loading 32 bits at a time. Each range [start, end) is tested as
 * start <= ip && ip <= end - 1, each 64-bit comparison done on the high words first and on the
 * low words only when the high words are equal. */
#define IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define IP_HI (offsetof(struct seccomp_data, instruction_pointer) + 4)

int lkmsb_ip_filter_install(const uint64_t *starts, const uint64_t *ends, int n) {
  if (n < 0 || n > 8) return -EINVAL;
  /* 10 instructions a range, the two returns. */
  struct sock_filter code[8 * 10 + 2];
  int at = 0;
  for (int i = 0; i < n; i++) {
    if (ends[i] <= starts[i]) return -EINVAL;
    uint32_t start_hi = (uint32_t)(starts[i] >> 32), start_lo = (uint32_t)starts[i];
    uint64_t last = ends[i] - 1;
    uint32_t last_hi = (uint32_t)(last >> 32), last_lo = (uint32_t)last;
    /* The range's 10 instructions are at [at, at + 10); the next range starts at at + 10;
     * TRAP is at 10 * n + 1 (after ALLOW at 10 * n). Jump offsets count from the next
     * instruction. */
    int next = at + 10, trap = 10 * n + 1;
#define TO(target, from) ((uint8_t)((target) - (from) - 1))
    /* ip >= start */
    code[at + 0] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_HI);
    code[at + 1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, start_hi, TO(at + 5, at + 1), 0);
    code[at + 2] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, start_hi, 0, TO(next, at + 2));
    code[at + 3] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_LO);
    code[at + 4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, start_lo, 0, TO(next, at + 4));
    /* ip <= last */
    code[at + 5] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_HI);
    code[at + 6] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, last_hi, TO(next, at + 6), 0);
    code[at + 7] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, last_hi, 0, TO(trap, at + 7));
    code[at + 8] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_LO);
    code[at + 9] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, last_lo, TO(next, at + 9), TO(trap, at + 9));
#undef TO
    at += 10;
  }
  code[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  code[at++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP | LKMSB_IP_FILTER_DATA);
  struct sock_fprog program = {(unsigned short)at, code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program) != 0)
    return -errno;
  return 0;
}

/* The calls that name another process by its pid and can hurt it (signal it, lower its
 * limits, move or starve it): how each may name only the caller. */
enum { ONLY_SELF, SELF_OR_ZERO, PROCESS_WHO, NEVER };
static const struct {
  int nr, kind, arg, which;
} pid_calls[] = {
    {__NR_kill, ONLY_SELF, 0, 0},          {__NR_tgkill, ONLY_SELF, 0, 0},
    {__NR_tkill, ONLY_SELF, 0, 0},         {__NR_rt_sigqueueinfo, ONLY_SELF, 0, 0},
    {__NR_rt_tgsigqueueinfo, ONLY_SELF, 0, 0},
    {__NR_prlimit64, SELF_OR_ZERO, 0, 0},  {__NR_sched_setaffinity, SELF_OR_ZERO, 0, 0},
    {__NR_sched_setscheduler, SELF_OR_ZERO, 0, 0}, {__NR_sched_setparam, SELF_OR_ZERO, 0, 0},
    {__NR_sched_setattr, SELF_OR_ZERO, 0, 0}, {__NR_migrate_pages, SELF_OR_ZERO, 0, 0},
    {__NR_move_pages, SELF_OR_ZERO, 0, 0},
    {__NR_setpriority, PROCESS_WHO, 1, 0 /* PRIO_PROCESS */},
    {__NR_ioprio_set, PROCESS_WHO, 1, 1 /* IOPRIO_WHO_PROCESS */},
    {__NR_pidfd_open, ONLY_SELF, 0, 0},    {__NR_pidfd_send_signal, NEVER, 0, 0},
    {__NR_pidfd_getfd, NEVER, 0, 0},       {__NR_process_madvise, NEVER, 0, 0},
};

#define NR offsetof(struct seccomp_data, nr)
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

/* The pid filter's program into `code` (room for 4 + 8 per call); returns its length.
 * With `self` != 0 a call may name only `self` (or 0 where 0 means the caller). With
 * `self` == 0 the process is the init of a pid namespace its callers share: any pid above 1
 * is one of them (the namespace holds nothing else), 1 (the init) and 0 or negative ones
 * (process groups, every process) are denied, and 0 still means the caller where it does. */
static int pid_program(struct sock_filter *code, uint32_t self, uint32_t deny) {
  int at = 0;
/* One instruction at `at` (read by TO below while it is built), then the next. */
#define EMIT(...)                                                                              \
  do {                                                                                         \
    code[at] = (struct sock_filter)__VA_ARGS__;                                                \
    at++;                                                                                      \
  } while (0)
  EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR));
  /* x32 numbers (bit 30): the same calls under other numbers. */
  EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  EMIT(BPF_STMT(BPF_RET | BPF_K, deny));
  for (size_t i = 0; i < sizeof pid_calls / sizeof pid_calls[0]; i++) {
    /* Each block starts with A = nr (blocks end in returns); a pid is an int: its low word
     * is what the kernel reads. Jump offsets count from the next instruction. The test
     * "A names an allowed process" is, with self, A == self; in a namespace, 1 < A < 2^31
     * (signed: above 1). */
    uint32_t nr = (uint32_t)pid_calls[i].nr, arg = (uint32_t)pid_calls[i].arg;
    int kind = pid_calls[i].kind;
    if (kind == NEVER) {
      EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1));
      EMIT(BPF_STMT(BPF_RET | BPF_K, deny));
      continue;
    }
    /* The block: nr test, [which test], load the pid, [0 allowed], the pid test (one
     * instruction with self, two in a namespace), ALLOW, DENY. */
    int which = kind == PROCESS_WHO, zero = kind != ONLY_SELF, test = self != 0 ? 1 : 2;
    int length = 1 + 2 * which + 1 + zero + test + 2;
    int allow_at = at + length - 2, deny_at = at + length - 1;
#define TO(target) ((uint8_t)((target) - at - 1)) /* from the instruction being emitted */
    EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, TO(deny_at + 1)));
    if (which) {
      EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)));
      EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)pid_calls[i].which, 0, TO(deny_at)));
    }
    EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(arg)));
    if (zero) EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, TO(allow_at), 0));
    if (self != 0) {
      EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, self, TO(allow_at), TO(deny_at)));
    } else {
      /* Negative (a process group, every process): DENY; above 1: ALLOW; 1 (or 0): DENY. */
      EMIT(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x80000000u, TO(deny_at), 0));
      EMIT(BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, 1, TO(allow_at), TO(deny_at)));
    }
#undef TO
    EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    EMIT(BPF_STMT(BPF_RET | BPF_K, deny));
  }
  EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
#undef EMIT
  return at;
}

static int install_pid_program(uint32_t self, int all_threads, int trap) {
  struct sock_filter code[4 + 8 * sizeof pid_calls / sizeof pid_calls[0]];
  int length = pid_program(code, self, trap ? SECCOMP_RET_TRAP : SECCOMP_RET_KILL_PROCESS);
  struct sock_fprog program = {(unsigned short)length, code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  unsigned flags = all_threads ? SECCOMP_FILTER_FLAG_TSYNC : 0;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program) != 0) return -errno;
  return 0;
}

int lkmsb_confine_to_self(int all_threads, int trap) {
  return install_pid_program((uint32_t)getpid(), all_threads, trap);
}

int lkmsb_enter_pid_namespace(void) {
  if (unshare(CLONE_NEWPID) != 0) {
    if (errno != EPERM || unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) return 0;
  }
  pid_t init = fork();
  if (init < 0) return -errno;
  if (init > 0) {
    /* The outer process: holds nothing of the server's (its end-of-file is the server's), and
     * ends as the server ends. */
    lkmsb_close_from(0);
    int status = 0;
    while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  /* The namespace's init: dies with the outer process. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return -errno;
  return 1;
}

int lkmsb_protect_namespace_init(void) { return install_pid_program(0, 0, 0); }

int lkmsb_filter_all_threads(const lkmsb_filter_t *filter) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &filter->program) != 0)
    return -errno;
  return 0;
}

static int limit(int resource, uint64_t value) {
  if (value == 0) return 0;
  struct rlimit r = {(rlim_t)value, (rlim_t)value};
  return setrlimit(resource, &r) == 0 ? 0 : -errno;
}

int lkmsb_limit_self(const lkmsb_limits_t *limits) {
  int rc;
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_CORE, &none) != 0) return -errno;
  if ((rc = limit(RLIMIT_AS, limits->address_space))) return rc;
  if ((rc = limit(RLIMIT_CPU, limits->cpu_seconds))) return rc;
  if ((rc = limit(RLIMIT_FSIZE, limits->file_size))) return rc;
  if ((rc = limit(RLIMIT_NOFILE, limits->open_files))) return rc;
  if ((rc = limit(RLIMIT_NPROC, limits->processes))) return rc;
  signal(SIGXFSZ, SIG_IGN);
  /* The Swift runtime's crash handler would start its backtracer (a socketpair, an exec):
   * a crash here is the parent's to judge, by its signal. */
  signal(SIGABRT, SIG_DFL);
  signal(SIGTRAP, SIG_DFL);
  /* Die with the fork server (or the parent of a one-shot helper). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return -errno;
  return 0;
}

int lkmsb_filter_self(const lkmsb_filter_t *filter) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter->program) != 0) return -errno;
  return 0;
}

int lkmsb_enter(const lkmsb_filter_t *filter, const lkmsb_limits_t *limits) {
  int rc = lkmsb_limit_self(limits);
  return rc ? rc : lkmsb_filter_self(filter);
}

void lkmsb_close_from(int lowest) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
#endif
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = lowest; fd < max; fd++) close((int)fd);
}

int lkmsb_thread_count(void) {
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL) return -1;
  char line[256];
  int count = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "Threads:", 8) == 0) {
      count = atoi(line + 8);
      break;
    }
  }
  fclose(f);
  return count;
}

/* The AnonHugePages of the mapping that starts at `start`, in bytes, or -1. */
static long huge_bytes_at(uintptr_t start) {
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL) return -1;
  char line[4096];
  int inside = 0;
  long bytes = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long long from, to;
    char c;
    /* A mapping's line starts "from-to perms"; a field's, "Name:". */
    const char *space = strchr(line, ' ');
    if (space != NULL && space > line && space[-1] != ':' &&
        sscanf(line, "%llx-%llx %c", &from, &to, &c) == 3) {
      inside = from == start;
      continue;
    }
    unsigned long long kb;
    if (inside && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
      bytes = (long)(kb * 1024);
      break;
    }
  }
  fclose(f);
  return bytes;
}

long lkmsb_code_on_huge_pages(void) {
  const uintptr_t huge = 2u << 20;
  uintptr_t here = (uintptr_t)&lkmsb_code_on_huge_pages;
  FILE *maps = fopen("/proc/self/maps", "re");
  if (maps == NULL) return -errno;
  char line[4096];
  uintptr_t start = 0, end = 0;
  while (fgets(line, sizeof line, maps)) {
    unsigned long long from, to;
    char perms[8];
    if (sscanf(line, "%llx-%llx %7s", &from, &to, perms) == 3 && from <= here && here < to &&
        strcmp(perms, "r-xp") == 0) {
      start = (uintptr_t)from;
      end = (uintptr_t)to;
      break;
    }
  }
  fclose(maps);
  uintptr_t from = (start + huge - 1) & ~(huge - 1), to = end & ~(huge - 1);
  if (start == 0 || to <= from) return 0;
  size_t length = to - from;
  /* A staging area aligned as the code is (so that its huge pages move whole). */
  char *raw = mmap(NULL, length + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                   0);
  if (raw == MAP_FAILED) return -errno;
  char *stage = (char *)(((uintptr_t)raw + huge - 1) & ~(huge - 1));
  if (stage > raw) munmap(raw, (size_t)(stage - raw));
  if (raw + length + huge > stage + length)
    munmap(stage + length, (size_t)(raw + length + huge - (stage + length)));
  if (madvise(stage, length, MADV_HUGEPAGE) != 0) {
    int rc = -errno;
    munmap(stage, length);
    return rc;
  }
  memcpy(stage, (const void *)from, length);
  if (huge_bytes_at((uintptr_t)stage) != (long)length ||
      mprotect(stage, length, PROT_READ | PROT_EXEC) != 0) {
    munmap(stage, length);
    return 0;
  }
  /* The swap: this function's own code may be in the range; it is the same bytes after. */
  if (mremap(stage, length, length, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)from) == MAP_FAILED) {
    int rc = -errno;
    munmap(stage, length);
    return rc;
  }
  return (long)length;
}

int lkmsb_drop_root(void) {
  if (geteuid() != 0 && getuid() != 0) return 0;
  /* nobody and nogroup by number: a lookup by name could load NSS modules into the server,
   * more mappings for every fork. */
  const uid_t uid = 65534;
  const gid_t gid = 65534;
  int pdeath = 0;
  prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0);
  if (setgroups(0, NULL) != 0) return -errno;
  if (setresgid(gid, gid, gid) != 0) return -errno;
  if (setresuid(uid, uid, uid) != 0) return -errno;
  if (geteuid() == 0 || getuid() == 0 || getegid() == 0) return -EPERM;
  /* A change of credentials clears the parent-death signal: set it again. */
  if (pdeath != 0 && prctl(PR_SET_PDEATHSIG, pdeath, 0, 0, 0) != 0) return -errno;
  return 1;
}

/* Landlock's interface, from the kernel's UAPI (linux/landlock.h): Debian 12's headers stop at
 * ABI 2, the kernels it runs on may have more. */
struct landlock_attr {
  uint64_t handled_access_fs, handled_access_net, scoped;
};
enum {
  LL_CREATE_RULESET_VERSION = 1,
  LL_FS_ABI1 = (1 << 13) - 1, /* EXECUTE … MAKE_SYM: bits 0 to 12 */
  LL_FS_REFER = 1 << 13,      /* ABI 2 */
  LL_FS_TRUNCATE = 1 << 14,   /* ABI 3 */
  LL_FS_IOCTL_DEV = 1 << 15,  /* ABI 5 */
  LL_NET_TCP = 3,             /* ABI 4: BIND_TCP, CONNECT_TCP */
  LL_SCOPE = 3,               /* ABI 6: ABSTRACT_UNIX_SOCKET, SIGNAL */
};

int lkmsb_forbid_files(void) {
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
  if (abi < 1) return 0;
  struct landlock_attr attr = {0};
  attr.handled_access_fs = LL_FS_ABI1;
  if (abi >= 2) attr.handled_access_fs |= LL_FS_REFER;
  if (abi >= 3) attr.handled_access_fs |= LL_FS_TRUNCATE;
  if (abi >= 5) attr.handled_access_fs |= LL_FS_IOCTL_DEV;
  if (abi >= 4) attr.handled_access_net = LL_NET_TCP;
  if (abi >= 6) attr.scoped = LL_SCOPE;
  /* The size names the fields this kernel knows. */
  size_t size = abi >= 6 ? sizeof attr : abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0) return -errno;
  /* No rule: nothing of the file system is reachable from here on. */
  int rc = 0;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
    rc = -errno;
  close(ruleset);
  return rc == 0 ? 1 : rc;
}

int lkmsb_next_server_cpu(void) {
  static unsigned turn;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return -1;
  int count = CPU_COUNT(&allowed);
  if (count <= 0) return -1;
  unsigned nth = __atomic_fetch_add(&turn, 1, __ATOMIC_RELAXED) % (unsigned)count;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET(cpu, &allowed) && nth-- == 0) return cpu;
  }
  return -1;
}

int lkmsb_bind_to_cpu(int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return sched_setaffinity(0, sizeof one, &one) == 0 ? 0 : -errno;
}

void lkmsb_trim_heap(void) { malloc_trim(0); }

uint64_t lkmsb_address_space_size(void) {
  FILE *f = fopen("/proc/self/statm", "re");
  if (f == NULL) return 0;
  unsigned long long pages = 0;
  if (fscanf(f, "%llu", &pages) != 1) pages = 0;
  fclose(f);
  return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

int lkmsb_die_with_parent(void) {
  return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 ? 0 : -errno;
}

int lkmsb_syscall_name(int nr, char *buf, size_t size) {
  char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (name == NULL || size == 0) {
    free(name);
    return 0;
  }
  snprintf(buf, size, "%s", name);
  free(name);
  return 1;
}

/* ---- Parent's side ---- */

#include <spawn.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

int lkmsb_pipe(int *fds) { return pipe2(fds, O_CLOEXEC); }

int lkmsb_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int lkmsb_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

int lkmsb_spawn_with(const char *path, char *const *argv, char *const *envp, const int *fds,
                     int nfds, int flags) {
  if (nfds < 0 || nfds > 16) return -EINVAL;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  int rc = posix_spawn_file_actions_init(&actions);
  if (rc) return -rc;
  rc = posix_spawnattr_init(&attr);
  if (rc) {
    posix_spawn_file_actions_destroy(&actions);
    return -rc;
  }
  /* Move the sources above the targets first, so that dup2 into 0..nfds-1 never overwrites a
   * later source. */
  int moved[16];
  for (int i = 0; i < nfds && rc == 0; i++) {
    moved[i] = 100 + i;
    if (fds[i] < 0) {
      rc = posix_spawn_file_actions_addopen(&actions, moved[i], "/dev/null", O_RDWR, 0);
    } else {
      rc = posix_spawn_file_actions_adddup2(&actions, fds[i], moved[i]);
    }
  }
  for (int i = 0; i < nfds && rc == 0; i++) rc = posix_spawn_file_actions_adddup2(&actions, moved[i], i);
  for (int i = 0; i < nfds && rc == 0; i++) rc = posix_spawn_file_actions_addclose(&actions, moved[i]);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  short spawn_flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (flags & LKMSB_SPAWN_SETSID) spawn_flags |= POSIX_SPAWN_SETSID;
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &all);
  if (rc == 0) rc = posix_spawnattr_setflags(&attr, spawn_flags);
  pid_t pid = -1;
  char *const empty[] = {NULL};
  if (rc == 0) rc = posix_spawn(&pid, path, &actions, &attr, argv, envp ? envp : empty);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc ? -rc : pid;
}

int lkmsb_spawn(const char *path, char *const *argv, const int *fds) {
  return lkmsb_spawn_with(path, argv, NULL, fds, 4, 0);
}

int lkmsb_socketpair(int *fds) {
  return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

int lkmsb_try_reap(int pid, int *code, int *status) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  for (;;) {
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG) == 0) break;
    if (errno != EINTR) return -errno;
  }
  if (info.si_pid == 0) return 0;
  *code = info.si_code;
  *status = info.si_status;
  return 1;
}

int lkmsb_wait_child(int pid, int milliseconds, int *code, int *status) {
  /* A pidfd polls readable when the child ends; without one (a kernel before 5.3), the child
   * is looked at every millisecond. */
  int fd = lkmsb_pidfd_open(pid);
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int timed_out = 0;
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (spent >= milliseconds) {
      timed_out = 1;
      break;
    }
    if (fd < 0) {
      siginfo_t peek;
      memset(&peek, 0, sizeof peek);
      if (waitid(P_PID, (id_t)pid, &peek, WEXITED | WNOHANG | WNOWAIT) == 0 && peek.si_pid != 0)
        break;
      struct timespec tick = {0, 1000000};
      nanosleep(&tick, NULL);
      continue;
    }
    struct pollfd ready = {fd, POLLIN, 0};
    int n = poll(&ready, 1, (int)(milliseconds - spent));
    if (n > 0) break;
    if (n < 0 && errno != EINTR) {
      int rc = -errno;
      close(fd);
      return rc;
    }
  }
  if (fd >= 0) close(fd);
  if (timed_out) kill(pid, SIGKILL);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  while (waitid(P_PID, (id_t)pid, &info, WEXITED) != 0) {
    if (errno != EINTR) return -errno;
  }
  *code = info.si_code;
  *status = info.si_status;
  /* Ended on its own as the time ran out (the kill found it a zombie): not a timeout. */
  return timed_out && info.si_code == CLD_KILLED && info.si_status == SIGKILL;
}

