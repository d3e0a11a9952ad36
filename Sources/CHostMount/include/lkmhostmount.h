/* A directory of the lkm kernel's namespace mounted on the host through FUSE (libfuse 3's
 * high-level API): every FUSE operation is one or a few of the kernel's system calls, made
 * through a transport the caller supplies (lkm-mount's process sessions with lkmd), so that the
 * kernel's VFS and the file system module's vnode operations do the work.
 *
 * The kernel speaks OpenBSD: its system call numbers, struct stat, struct statfs, struct
 * dirent, open flags, ioctl encoding and errno values. This file system converts each at the
 * boundary (by name, never by number) and returns Linux's to FUSE. */
#ifndef LKMHOSTMOUNT_H
#define LKMHOSTMOUNT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One argument of a system call, as lkm's device protocol carries it. */
enum lkmhm_arg_kind {
  LKMHM_INTEGER, /* integer, in its register */
  LKMHM_STRING,  /* string, NUL-terminated: copied in */
  LKMHM_BYTES,   /* data[0..length): copied in */
  LKMHM_BUFFER,  /* data[0..length): zeroed, filled by the kernel, copied back */
  LKMHM_BOTH     /* data[0..length): copied in and back */
};

struct lkmhm_arg {
  enum lkmhm_arg_kind kind;
  int64_t integer;
  const char *_Nullable string;
  void *_Nullable data;
  size_t length;
  /* LKMHM_BUFFER and LKMHM_BOTH: the bytes the reply returned (set by the transport, at most
   * length; the rest of data is left as it was). */
  size_t returned;
};

/* The transport: performs system call `number` of the kernel with `args`. Returns retval[0]
 * (>= 0), or -1 with *kernel_errno set to the kernel's errno (OpenBSD's number), or to -1 when
 * the kernel could not be reached (lkmd gone). Called from FUSE's worker threads at once. */
typedef int64_t (*lkmhm_syscall_fn)(void *_Nullable context, int number,
                                    struct lkmhm_arg *_Nonnull args, int count,
                                    int *_Nonnull kernel_errno);

/* Called once the host mount is in place, before the first operation is served. */
typedef void (*lkmhm_ready_fn)(void *_Nullable context);

struct lkmhm_config {
  const char *_Nonnull mountpoint;  /* the host directory */
  const char *_Nonnull kernel_path; /* the kernel's directory shown there ("/mem", "/dev") */
  const char *_Nonnull fsname;      /* what the host's mount table says ("lkm:memfs:/mem") */
  /* 1: the kernel's /dev: device nodes are shown as regular files of size 0 read and written
   * without the page cache (direct I/O), so that read(2) and write(2) reach the driver; ioctl(2)
   * is translated. 0: a file system: files are cached by the host as usual. */
  int devices;
  int debug;        /* libfuse's -d */
  int max_threads;  /* FUSE worker threads at most (0: libfuse's default) */
  lkmhm_syscall_fn _Nonnull syscall;
  lkmhm_ready_fn _Nullable ready;
  void *_Nullable context;
};

/* Mounts config->mountpoint, calls ready, and serves until lkmhm_stop() or a SIGTERM, SIGINT or
 * SIGHUP; then unmounts (lazily: files still open there keep working until closed) and
 * returns. Returns 0, or -1 with a message in error[0..error_size) (a mount that failed). */
int lkmhm_serve(const struct lkmhm_config *_Nonnull config, char *_Nonnull error,
                size_t error_size);

/* Ends lkmhm_serve from any thread (it unmounts and returns). */
void lkmhm_stop(void);

/* Closes every descriptor from `first` on (close_range(2)): what the server's starter left open
 * without FD_CLOEXEC (a test harness's process monitor) must not be held by a daemon. */
void lkmhm_close_from(int first);

/* The host's errno for the kernel's (OpenBSD) errno `kernel_errno`, matched by name; EIO for
 * one the host does not have. */
int lkmhm_host_errno(int kernel_errno);

/* The OpenBSD ioctl command for a Linux one (_IOC direction bits swapped: Linux's _IOC_WRITE,
 * bit 30, is OpenBSD's IOC_IN, bit 31; _IOC_NONE is IOC_VOID); the size (at most
 * IOCPARM_MASK, 0x1fff) and the type and number stay. */
uint32_t lkmhm_openbsd_ioctl(uint32_t linux_command);

#ifdef __cplusplus
}
#endif

#endif
