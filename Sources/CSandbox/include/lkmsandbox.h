/* CSandbox: what the sandbox child does to itself before it touches a module, in C because
 * prctl(2) and libseccomp's rule functions are variadic (Swift cannot call them) and because
 * the filter is compiled once, in the fork server, and installed in each child with one
 * system call.
 *
 * Our symbols are lkmsb_<verb>_<noun>. */
#ifndef LKMSANDBOX_H
#define LKMSANDBOX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The resource limits a child gets (setrlimit(2); soft = hard). 0 leaves one as it is. */
typedef struct lkmsb_limits {
  uint64_t address_space; /* RLIMIT_AS, bytes (absolute: include what is mapped already) */
  uint64_t cpu_seconds;   /* RLIMIT_CPU */
  uint64_t file_size;     /* RLIMIT_FSIZE, bytes (also bounds writes to the report files) */
  uint64_t open_files;    /* RLIMIT_NOFILE */
  uint64_t processes;     /* RLIMIT_NPROC (root is exempt; the filter still holds) */
} lkmsb_limits_t;

/* The compiled seccomp filter (a BPF program), built with libseccomp. */
typedef struct lkmsb_filter lkmsb_filter_t;

/* Builds and compiles the filter: default allow; SECCOMP_RET_KILL_PROCESS for execve and
 * execveat, every socket call, ptrace and process_vm_*, the setuid family and capset,
 * unshare, setns and clone with a CLONE_NEW* flag, open/openat/creat for writing (O_WRONLY,
 * O_RDWR, O_CREAT, O_TRUNC, O_APPEND), changes to the file system (unlink, rename, mkdir,
 * link, chmod, chown, mknod, truncate), mount, chroot, module, kexec, bpf, perf, keyring and
 * reboot calls, and any other architecture; ENOSYS for clone3 and openat2, whose arguments
 * are out of a filter's reach (the C library falls back to clone and openat).
 * Returns NULL with errno set on failure. */
lkmsb_filter_t *_Nullable lkmsb_filter_new(void);

/* The kernel process's filter: default allow; SECCOMP_RET_TRAP (SIGSYS, which the kernel
 * turns into an oops during a module call and a panic otherwise) for execve, fork, vfork and
 * clone without CLONE_THREAD, ptrace and process_vm_*, signals to any process but itself
 * (kill, tgkill, rt_sigqueueinfo and rt_tgsigqueueinfo with another pid; tkill and
 * pidfd_send_signal), the setuid family and capset, unshare and setns, every socket call (its
 * channel to the supervisor is inherited), mount and the other file-system-namespace calls,
 * kernel modules, kexec, reboot, bpf, perf, keyrings, and any other architecture; ENOSYS for
 * clone3 (the C library falls back to clone). NULL with errno set on failure. */
lkmsb_filter_t *_Nullable lkmsb_kernel_filter_new(void);

/* no_new_privs, then the filter for every thread of the process (SECCOMP_FILTER_FLAG_TSYNC).
 * Returns 0 or -errno. */
int lkmsb_filter_all_threads(const lkmsb_filter_t *_Nonnull filter);

/* Installs a filter that lets the calls naming a process by pid name only this process (its
 * pid at the call, or 0 where 0 means the caller): signals (kill, tgkill, tkill,
 * rt_sigqueueinfo, rt_tgsigqueueinfo), prlimit64, the sched_set* calls, migrate_pages and
 * move_pages, setpriority and ioprio_set (one process: this one), pidfd_open; never
 * pidfd_send_signal, pidfd_getfd, process_madvise or an x32 call. Anything else it names
 * is denied: SECCOMP_RET_TRAP (`trap`) or the process killed. Without it, code in a process
 * that shares the user's uid can kill, or lower the limits of, every process of that user
 * (lkmd's supervisor, the fork server, the shell). `all_threads`: SECCOMP_FILTER_FLAG_TSYNC.
 * A fork server's child calls it after the fork (the pid is its own). Returns 0 or -errno. */
int lkmsb_confine_to_self(int all_threads, int trap);

/* Makes the calling process (single-threaded) the init of a new pid namespace, so that the
 * children it forks can name no process outside it: unshare(CLONE_NEWPID) (with
 * CLONE_NEWUSER where that alone is refused), then a fork. The caller's process closes every
 * descriptor and waits to end as the new one ends; the new one, pid 1 in the namespace, dies
 * with it (PR_SET_PDEATHSIG) and returns 1. Returns 0 if no namespace could be made (nothing
 * changed), -errno if the fork failed. */
int lkmsb_enter_pid_namespace(void);

/* In the init of such a namespace: the filter for its children, installed once, which they
 * inherit: the calls of lkmsb_confine_to_self may name any pid above 1 (in the namespace, the
 * child that calls), never 1 (the init), 0 where it means a process group, or a negative pid
 * (groups, every process); 0 where it means the caller. Returns 0 or -errno. */
int lkmsb_protect_namespace_init(void);

/* Waits for child `pid` to end, at most `milliseconds`, then kills it (SIGKILL) and waits
 * again; reaps it. *code and *status: its si_code and si_status. Returns 1 if it was killed at
 * the timeout, 0 if it ended, -errno. */
int lkmsb_wait_child(int pid, int milliseconds, int *_Nonnull code, int *_Nonnull status);

/* What the instruction-pointer filter's SECCOMP_RET_TRAP carries in si_errno. */
#define LKMSB_IP_FILTER_DATA 0x4c4b

/* Installs, for every thread, a filter that traps (SIGSYS, si_errno LKMSB_IP_FILTER_DATA)
 * every system call made from an instruction in [starts[i], ends[i]) for i < n (at most 8
 * ranges: the reserved module regions), and allows the others (other filters decide them).
 * Irrevocable. Returns 0 or -errno. */
int lkmsb_ip_filter_install(const uint64_t *_Nonnull starts, const uint64_t *_Nonnull ends, int n);

/* Enters the sandbox, in this order: core dumps off (RLIMIT_CORE 0), the limits, SIGXFSZ
 * ignored (a write past RLIMIT_FSIZE fails with EFBIG), SIGABRT and SIGTRAP back to their
 * defaults (the Swift runtime's backtracer would exec), death with the parent
 * (PR_SET_PDEATHSIG), no_new_privs, the filter. Irrevocable.
 * Returns 0, or -errno of the step that failed. */
int lkmsb_enter(const lkmsb_filter_t *_Nonnull filter, const lkmsb_limits_t *_Nonnull limits);

/* The two halves of lkmsb_enter, for the fork server: lkmsb_filter_self (no_new_privs and the
 * filter, which fork children inherit) once in the server, before it serves, and
 * lkmsb_limit_self (core dumps off, the limits, the signal dispositions, death with the
 * parent; RLIMIT_CPU counts from each child's start) in each child. Return 0 or -errno. */
int lkmsb_filter_self(const lkmsb_filter_t *_Nonnull filter);
int lkmsb_limit_self(const lkmsb_limits_t *_Nonnull limits);

/* Closes every descriptor from `lowest` up (close_range(2), or a loop where it is missing). */
void lkmsb_close_from(int lowest);

/* The number of threads of this process (Threads: in /proc/self/status), or -1. */
int lkmsb_thread_count(void);

/* Moves the 2 MiB-aligned middle of this executable's code onto transparent huge pages: an
 * anonymous copy, on huge pages, replaces the file mapping in place (mremap(2), one system
 * call: the same bytes at the same addresses, read and execute only). A fork copies one entry
 * per 2 MiB of it (fork leaves a file mapping's entries to be faulted in again, page by page,
 * in every child), and a child never faults on it. Does nothing (returns 0) unless every page
 * of the copy is huge; single-threaded callers only. Returns the bytes moved, or -errno. */
long lkmsb_code_on_huge_pages(void);

/* Run as root, gives root up for good: no supplementary groups, then group and user 65534
 * (nogroup and nobody), real, effective and saved; the parent-death signal,
 * which the change clears, set again. Children of a root sandbox would otherwise hold every
 * capability the filter does not deny (TIOCSTI on a terminal, raw devices, any file by
 * handle, the limits of any process). Returns 1 if it dropped root, 0 if not root, or
 * -errno. */
int lkmsb_drop_root(void);

/* Landlock, where the kernel has it: from here on this process and its children reach nothing
 * of the file system (no open for reading or writing, no directory, no exec, no node made or
 * removed; TCP bind and connect, abstract unix sockets and signals to processes outside the
 * domain too, where the ABI has them). Descriptors already open keep working. The seccomp
 * filter lets opens for reading through: without this, a module read any file its user can
 * and, where no user namespace separates it, the memory of the user's other processes
 * (/proc/PID/mem). Returns 1 if restricted, 0 without Landlock, -errno. */
int lkmsb_forbid_files(void);

/* The CPU for the next fork server this process starts: the allowed CPUs of the calling
 * thread (sched_getaffinity(2)) taken in turn, so that a campaign's servers spread over the
 * cores; -1 if the set cannot be read. */
int lkmsb_next_server_cpu(void);

/* Binds this process (and so every child it forks from now on) to CPU `cpu`. Returns 0 or
 * -errno. */
int lkmsb_bind_to_cpu(int cpu);

/* Gives the C library's free heap memory back to the system (malloc_trim(3)): pages a fork
 * would otherwise copy the entries of, and a child write-fault with a copy. */
void lkmsb_trim_heap(void);

/* The size of this process's address space in bytes (VmSize, from /proc/self/statm), or 0. */
uint64_t lkmsb_address_space_size(void);

/* PR_SET_PDEATHSIG SIGKILL: this process dies with its parent. Returns 0 or -errno. */
int lkmsb_die_with_parent(void);

/* The name of x86-64 system call `nr` (libseccomp's table) into buf; 0 if unknown. */
int lkmsb_syscall_name(int nr, char *_Nonnull buf, size_t size);

/* ---- The parent's side: process plumbing Swift's Glibc module does not show ---- */

/* pipe2(fds, O_CLOEXEC). Returns 0, or -1 with errno. */
int lkmsb_pipe(int *_Nonnull fds);

/* memfd_create(name, MFD_CLOEXEC): a memory file for a child's report or its stderr. */
int lkmsb_memfd(const char *_Nonnull name);

/* pidfd_open(pid, 0): a descriptor that polls readable when pid exits; -1 with errno. */
int lkmsb_pidfd_open(int pid);

/* posix_spawn(path, argv) with an empty environment, default signal dispositions, an empty
 * signal mask and exactly descriptors 0-3 taken from fds[0..3] (-1: /dev/null). Returns the
 * pid, or -errno. */
int lkmsb_spawn(const char *_Nonnull path, char *_Nullable const *_Nonnull argv,
                const int *_Nonnull fds);

/* posix_spawn(path, argv, envp) with default signal dispositions, an empty signal mask and
 * exactly descriptors 0..nfds-1 taken from fds (-1: /dev/null; at most 16); envp NULL: an empty
 * environment. flags: LKMSB_SPAWN_SETSID puts the child in a session of its own (a terminal's
 * ^C does not reach it). Returns the pid, or -errno. */
#define LKMSB_SPAWN_SETSID 1
int lkmsb_spawn_with(const char *_Nonnull path, char *_Nullable const *_Nonnull argv,
                     char *_Nullable const *_Nullable envp, const int *_Nonnull fds, int nfds,
                     int flags);

/* socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): the supervisor's channel to the kernel. */
int lkmsb_socketpair(int *_Nonnull fds);

/* waitid(P_PID, pid, WEXITED | WNOHANG): reaps pid if it has ended. Returns 1 with *code
 * (CLD_EXITED, CLD_KILLED, CLD_DUMPED) and *status set, 0 if it still runs, or -errno. */
int lkmsb_try_reap(int pid, int *_Nonnull code, int *_Nonnull status);


#ifdef __cplusplus
}
#endif
#endif
