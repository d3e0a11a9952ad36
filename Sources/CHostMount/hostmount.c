/* The host side of `lkmctl mount --host` and `lkmd --host-dev`: a FUSE file system (libfuse 3,
 * high-level API, multi-threaded loop) whose every operation is the kernel's system calls on
 * the kernel path the host directory shows. Paths are joined to the kernel path; open files
 * and directories are the kernel's descriptors (FUSE's fh), in the kernel process of the
 * process that serves, shared by its sessions.
 *
 * Everything the kernel returns is OpenBSD's and converted here, by name: struct stat (128
 * bytes), struct statfs (272), struct dirent records, errno values, open flags and ioctl
 * commands. */
#define _GNU_SOURCE
#include "lkmhostmount.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define FUSE_USE_VERSION 312
#include <fuse.h>

/* ---- OpenBSD's side (sys/syscall.h, sys/fcntl.h, sys/stat.h, sys/mount.h, sys/dirent.h) ---- */

enum {
  OBSD_SYS_read = 3, OBSD_SYS_write = 4, OBSD_SYS_open = 5, OBSD_SYS_close = 6,
  OBSD_SYS_link = 9, OBSD_SYS_unlink = 10, OBSD_SYS_chmod = 15, OBSD_SYS_chown = 16,
  OBSD_SYS_lstat = 40, OBSD_SYS_fstat = 53, OBSD_SYS_ioctl = 54, OBSD_SYS_symlink = 57,
  OBSD_SYS_readlink = 58, OBSD_SYS_statfs = 63, OBSD_SYS_utimes = 76, OBSD_SYS_fsync = 95,
  OBSD_SYS_getdents = 99, OBSD_SYS_rename = 128, OBSD_SYS_mkdir = 136, OBSD_SYS_rmdir = 137,
  OBSD_SYS_pread = 173, OBSD_SYS_pwrite = 174, OBSD_SYS_lseek = 199, OBSD_SYS_truncate = 200,
  OBSD_SYS_ftruncate = 201,
};

enum {
  OBSD_O_RDONLY = 0x0000, OBSD_O_WRONLY = 0x0001, OBSD_O_RDWR = 0x0002,
  OBSD_O_NONBLOCK = 0x0004, OBSD_O_CREAT = 0x0200, OBSD_O_TRUNC = 0x0400,
  OBSD_O_EXCL = 0x0800, OBSD_O_DIRECTORY = 0x20000,
};

enum {
  OBSD_S_IFMT = 0170000, OBSD_S_IFIFO = 0010000, OBSD_S_IFCHR = 0020000,
  OBSD_S_IFDIR = 0040000, OBSD_S_IFBLK = 0060000, OBSD_S_IFREG = 0100000,
  OBSD_S_IFLNK = 0120000, OBSD_S_IFSOCK = 0140000,
};

enum {
  OBSD_DT_FIFO = 1, OBSD_DT_CHR = 2, OBSD_DT_DIR = 4, OBSD_DT_BLK = 6, OBSD_DT_REG = 8,
  OBSD_DT_LNK = 10, OBSD_DT_SOCK = 12,
};

#define OBSD_IOC_VOID 0x20000000u
#define OBSD_IOC_OUT 0x40000000u
#define OBSD_IOC_IN 0x80000000u
#define OBSD_IOCPARM_MASK 0x1fffu

struct obsd_timespec {
  int64_t tv_sec;
  int64_t tv_nsec;
};

struct obsd_stat {
  uint32_t st_mode;
  int32_t st_dev;
  uint64_t st_ino;
  uint32_t st_nlink;
  uint32_t st_uid;
  uint32_t st_gid;
  int32_t st_rdev;
  struct obsd_timespec st_atim, st_mtim, st_ctim;
  int64_t st_size;
  int64_t st_blocks;
  int32_t st_blksize;
  uint32_t st_flags;
  uint32_t st_gen;
  struct obsd_timespec st_birthtim;
};
_Static_assert(sizeof(struct obsd_stat) == 128, "OpenBSD/amd64's struct stat");

struct obsd_statfs {
  uint32_t f_flags, f_bsize, f_iosize, f_namemax;
  uint64_t f_blocks, f_bfree;
  int64_t f_bavail;
  uint64_t f_files, f_ffree;
  int64_t f_favail;
  uint32_t f_owner, f_spare;
  char f_fstypename[16], f_mntonname[90], f_mntfromname[90];
};
_Static_assert(sizeof(struct obsd_statfs) == 272, "lkm's struct statfs");

struct obsd_timeval {
  int64_t tv_sec;
  int64_t tv_usec;
};

/* struct dirent's fixed part: d_fileno, d_off, d_reclen, d_type, d_namlen, padding; d_name. */
#define OBSD_DIRENT_NAME 24

/* errno values, OpenBSD's sys/errno.h, for the names Linux has too. */
static const struct {
  int openbsd, host;
} errnos[] = {
    {1, EPERM},      {2, ENOENT},        {3, ESRCH},         {4, EINTR},      {5, EIO},
    {6, ENXIO},      {7, E2BIG},         {8, ENOEXEC},       {9, EBADF},      {10, ECHILD},
    {11, EDEADLK},   {12, ENOMEM},       {13, EACCES},       {14, EFAULT},    {15, ENOTBLK},
    {16, EBUSY},     {17, EEXIST},       {18, EXDEV},        {19, ENODEV},    {20, ENOTDIR},
    {21, EISDIR},    {22, EINVAL},       {23, ENFILE},       {24, EMFILE},    {25, ENOTTY},
    {26, ETXTBSY},   {27, EFBIG},        {28, ENOSPC},       {29, ESPIPE},    {30, EROFS},
    {31, EMLINK},    {32, EPIPE},        {33, EDOM},         {34, ERANGE},    {35, EAGAIN},
    {36, EINPROGRESS}, {37, EALREADY},   {45, EOPNOTSUPP},   {60, ETIMEDOUT}, {61, ECONNREFUSED},
    {62, ELOOP},     {63, ENAMETOOLONG}, {64, EHOSTDOWN},    {65, EHOSTUNREACH},
    {66, ENOTEMPTY}, {68, EUSERS},       {69, EDQUOT},       {70, ESTALE},    {78, ENOSYS},
};

int lkmhm_host_errno(int kernel_errno) {
  for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
    if (errnos[i].openbsd == kernel_errno) return errnos[i].host;
  return EIO;
}

uint32_t lkmhm_openbsd_ioctl(uint32_t linux_command) {
  uint32_t dir = _IOC_DIR(linux_command), size = _IOC_SIZE(linux_command) & OBSD_IOCPARM_MASK;
  uint32_t out = 0;
  if (dir == _IOC_NONE) out |= OBSD_IOC_VOID;
  if (dir & _IOC_READ) out |= OBSD_IOC_OUT;
  if (dir & _IOC_WRITE) out |= OBSD_IOC_IN;
  return out | size << 16 | (linux_command & 0xffff);
}

/* ---- Calls ---- */

static const struct lkmhm_config *config;
static pthread_t server_thread;

#define INT(v) ((struct lkmhm_arg){.kind = LKMHM_INTEGER, .integer = (int64_t)(v)})
#define STR(s) ((struct lkmhm_arg){.kind = LKMHM_STRING, .string = (s)})
#define IN(p, n) ((struct lkmhm_arg){.kind = LKMHM_BYTES, .data = (void *)(p), .length = (n)})
#define OUT(p, n) ((struct lkmhm_arg){.kind = LKMHM_BUFFER, .data = (p), .length = (n)})
#define INOUT(p, n) ((struct lkmhm_arg){.kind = LKMHM_BOTH, .data = (p), .length = (n)})

/* System call `number`: its retval (>= 0), or the host's -errno. */
static int64_t kcall(int number, struct lkmhm_arg *args, int count) {
  int kernel_errno = 0;
  int64_t r = config->syscall(config->context, number, args, count, &kernel_errno);
  if (r >= 0) return r;
  if (kernel_errno < 0) return -ENOTCONN; /* lkmd is gone */
  return -lkmhm_host_errno(kernel_errno);
}
#define KCALL(number, ...) \
  kcall((number), (struct lkmhm_arg[]){__VA_ARGS__}, \
        (int)(sizeof((struct lkmhm_arg[]){__VA_ARGS__}) / sizeof(struct lkmhm_arg)))

/* The kernel path of a FUSE path ("/" is the kernel path itself). */
static int kpath(char *out, const char *path) {
  const char *base = config->kernel_path;
  size_t blen = strlen(base);
  if (blen > 0 && base[blen - 1] == '/') blen--;
  if (strcmp(path, "/") == 0) path = "";
  int n = snprintf(out, PATH_MAX, "%.*s%s", (int)blen, base, path);
  if (n < 0 || n >= PATH_MAX) return -ENAMETOOLONG;
  if (out[0] == 0) strcpy(out, "/");
  return 0;
}
#define KPATH(name, path) \
  char name[PATH_MAX]; \
  do { \
    int kpath_error = kpath(name, (path)); \
    if (kpath_error) return kpath_error; \
  } while (0)

static mode_t host_type(uint32_t openbsd_mode) {
  switch (openbsd_mode & OBSD_S_IFMT) {
  case OBSD_S_IFIFO: return S_IFIFO;
  case OBSD_S_IFCHR: return S_IFCHR;
  case OBSD_S_IFDIR: return S_IFDIR;
  case OBSD_S_IFBLK: return S_IFBLK;
  case OBSD_S_IFLNK: return S_IFLNK;
  case OBSD_S_IFSOCK: return S_IFSOCK;
  default: return S_IFREG;
  }
}

static int is_device(uint32_t openbsd_mode) {
  uint32_t type = openbsd_mode & OBSD_S_IFMT;
  return type == OBSD_S_IFCHR || type == OBSD_S_IFBLK;
}

/* The host's struct stat of the kernel's. A device node of the exported /dev is a regular file
 * of size 0 (the host must not take it for one of its own devices). */
static void host_stat(const struct obsd_stat *k, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_mode = (k->st_mode & 07777) | host_type(k->st_mode);
  if (is_device(k->st_mode)) st->st_mode = (k->st_mode & 07777) | S_IFREG;
  st->st_ino = k->st_ino;
  st->st_nlink = k->st_nlink;
  st->st_uid = k->st_uid;
  st->st_gid = k->st_gid;
  st->st_size = is_device(k->st_mode) ? 0 : k->st_size;
  st->st_blocks = k->st_blocks;
  st->st_blksize = k->st_blksize > 0 ? k->st_blksize : 4096;
  st->st_atim.tv_sec = k->st_atim.tv_sec;
  st->st_atim.tv_nsec = k->st_atim.tv_nsec;
  st->st_mtim.tv_sec = k->st_mtim.tv_sec;
  st->st_mtim.tv_nsec = k->st_mtim.tv_nsec;
  st->st_ctim.tv_sec = k->st_ctim.tv_sec;
  st->st_ctim.tv_nsec = k->st_ctim.tv_nsec;
}

static int kernel_lstat(const char *kp, struct obsd_stat *k) {
  int64_t r = KCALL(OBSD_SYS_lstat, STR(kp), OUT(k, sizeof *k));
  return r < 0 ? (int)r : 0;
}

/* OpenBSD's open flags for Linux's; O_TRUNC and O_APPEND are the host kernel's business
 * (FUSE sends a truncate, and writes at the offsets it computes). */
static int64_t open_flags(int flags) {
  int64_t out;
  switch (flags & O_ACCMODE) {
  case O_WRONLY: out = OBSD_O_WRONLY; break;
  case O_RDWR: out = OBSD_O_RDWR; break;
  default: out = OBSD_O_RDONLY; break;
  }
  if (flags & O_NONBLOCK) out |= OBSD_O_NONBLOCK;
  return out;
}

/* FUSE's fh: the kernel's descriptor, and FH_STREAM for a character device (read(2) and
 * write(2): the kernel refuses pread and pwrite on one, ESPIPE, as OpenBSD's does). */
#define FH_STREAM (UINT64_C(1) << 32)
#define FD(fi) ((int64_t)((fi)->fh & 0xffffffffu))

/* ---- Operations ---- */

static int hm_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  struct obsd_stat k;
  int64_t r;
  if (fi != NULL) {
    r = KCALL(OBSD_SYS_fstat, INT(FD(fi)), OUT(&k, sizeof k));
  } else {
    KPATH(kp, path);
    r = kernel_lstat(kp, &k);
  }
  if (r < 0) return (int)r;
  host_stat(&k, st);
  return 0;
}

static int hm_readlink(const char *path, char *buf, size_t size) {
  KPATH(kp, path);
  if (size == 0) return -EINVAL;
  int64_t r = KCALL(OBSD_SYS_readlink, STR(kp), OUT(buf, size - 1), INT(size - 1));
  if (r < 0) return (int)r;
  buf[r] = 0;
  return 0;
}

static int hm_mkdir(const char *path, mode_t mode) {
  KPATH(kp, path);
  return (int)KCALL(OBSD_SYS_mkdir, STR(kp), INT(mode & 07777));
}

static int hm_unlink(const char *path) {
  KPATH(kp, path);
  return (int)KCALL(OBSD_SYS_unlink, STR(kp));
}

static int hm_rmdir(const char *path) {
  KPATH(kp, path);
  return (int)KCALL(OBSD_SYS_rmdir, STR(kp));
}

static int hm_symlink(const char *target, const char *path) {
  KPATH(kp, path);
  return (int)KCALL(OBSD_SYS_symlink, STR(target), STR(kp));
}

/* RENAME_NOREPLACE is checked here (the kernel's rename(2) has no flags); RENAME_EXCHANGE is
 * not supported. */
static int hm_rename(const char *from, const char *to, unsigned int flags) {
  KPATH(kfrom, from);
  KPATH(kto, to);
  if (flags & ~RENAME_NOREPLACE) return -EINVAL;
  if (flags & RENAME_NOREPLACE) {
    struct obsd_stat k;
    int r = kernel_lstat(kto, &k);
    if (r == 0) return -EEXIST;
    if (r != -ENOENT) return r;
  }
  return (int)KCALL(OBSD_SYS_rename, STR(kfrom), STR(kto));
}

static int hm_link(const char *from, const char *to) {
  KPATH(kfrom, from);
  KPATH(kto, to);
  return (int)KCALL(OBSD_SYS_link, STR(kfrom), STR(kto));
}

static int hm_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  (void)fi;
  KPATH(kp, path);
  return (int)KCALL(OBSD_SYS_chmod, STR(kp), INT(mode & 07777));
}

static int hm_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
  (void)fi;
  KPATH(kp, path);
  return (int)KCALL(OBSD_SYS_chown, STR(kp), INT((int32_t)uid), INT((int32_t)gid));
}

/* A device of the exported /dev is not truncated (an open with O_TRUNC, as a shell's `>`,
 * truncates it as Linux does a character device: not at all). */
static int hm_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  if (fi != NULL && (fi->fh & FH_STREAM)) return 0;
  if (fi != NULL) return (int)KCALL(OBSD_SYS_ftruncate, INT(FD(fi)), INT(0), INT(size));
  KPATH(kp, path);
  if (config->devices) {
    struct obsd_stat k;
    if (kernel_lstat(kp, &k) == 0 && is_device(k.st_mode)) return 0;
  }
  return (int)KCALL(OBSD_SYS_truncate, STR(kp), INT(0), INT(size));
}

/* Opens path in the kernel; fi->fh is the kernel's descriptor. Devices (and everything of the
 * exported /dev) go without the page cache, so that every read and write reaches the driver. */
static int open_common(const char *kp, int64_t flags, mode_t mode, struct fuse_file_info *fi) {
  int64_t fd = KCALL(OBSD_SYS_open, STR(kp), INT(flags), INT(mode & 07777));
  if (fd < 0) return (int)fd;
  fi->fh = (uint64_t)fd;
  if (config->devices) {
    fi->direct_io = 1;
    fi->keep_cache = 0;
    struct obsd_stat k;
    int64_t r = KCALL(OBSD_SYS_fstat, INT(fd), OUT(&k, sizeof k));
    if (r == 0 && (k.st_mode & OBSD_S_IFMT) == OBSD_S_IFCHR) {
      fi->fh |= FH_STREAM;
      fi->nonseekable = 1;
    }
  }
  return 0;
}

static int hm_open(const char *path, struct fuse_file_info *fi) {
  KPATH(kp, path);
  return open_common(kp, open_flags(fi->flags), 0, fi);
}

static int hm_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  KPATH(kp, path);
  int64_t flags = open_flags(fi->flags) | OBSD_O_CREAT;
  if (fi->flags & O_EXCL) flags |= OBSD_O_EXCL;
  if (fi->flags & O_TRUNC) flags |= OBSD_O_TRUNC;
  return open_common(kp, flags, mode, fi);
}

static int hm_read(const char *path, char *buf, size_t size, off_t offset,
                   struct fuse_file_info *fi) {
  (void)path;
  if (fi->fh & FH_STREAM) return (int)KCALL(OBSD_SYS_read, INT(FD(fi)), OUT(buf, size), INT(size));
  return (int)KCALL(OBSD_SYS_pread, INT(FD(fi)), OUT(buf, size), INT(size), INT(0), INT(offset));
}

static int hm_write(const char *path, const char *buf, size_t size, off_t offset,
                    struct fuse_file_info *fi) {
  (void)path;
  if (fi->fh & FH_STREAM) return (int)KCALL(OBSD_SYS_write, INT(FD(fi)), IN(buf, size), INT(size));
  return (int)KCALL(OBSD_SYS_pwrite, INT(FD(fi)), IN(buf, size), INT(size), INT(0),
                    INT(offset));
}

static int hm_statfs(const char *path, struct statvfs *sv) {
  KPATH(kp, path);
  struct obsd_statfs k;
  int64_t r = KCALL(OBSD_SYS_statfs, STR(kp), OUT(&k, sizeof k));
  if (r < 0) return (int)r;
  memset(sv, 0, sizeof *sv);
  sv->f_bsize = k.f_bsize;
  sv->f_frsize = k.f_bsize;
  sv->f_blocks = k.f_blocks;
  sv->f_bfree = k.f_bfree;
  sv->f_bavail = k.f_bavail > 0 ? (fsblkcnt_t)k.f_bavail : 0;
  sv->f_files = k.f_files;
  sv->f_ffree = k.f_ffree;
  sv->f_favail = k.f_favail > 0 ? (fsfilcnt_t)k.f_favail : 0;
  sv->f_namemax = k.f_namemax;
  return 0;
}

static int hm_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  return (int)KCALL(OBSD_SYS_close, INT(FD(fi)));
}

static int hm_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path;
  (void)datasync;
  return (int)KCALL(OBSD_SYS_fsync, INT(FD(fi)));
}

static int hm_opendir(const char *path, struct fuse_file_info *fi) {
  KPATH(kp, path);
  int64_t fd = KCALL(OBSD_SYS_open, STR(kp), INT(OBSD_O_RDONLY | OBSD_O_DIRECTORY), INT(0));
  if (fd < 0) return (int)fd;
  fi->fh = (uint64_t)fd;
  return 0;
}

static mode_t dirent_type(uint8_t type) {
  switch (type) {
  case OBSD_DT_FIFO: return S_IFIFO;
  case OBSD_DT_CHR: return config->devices ? S_IFREG : S_IFCHR;
  case OBSD_DT_DIR: return S_IFDIR;
  case OBSD_DT_BLK: return config->devices ? S_IFREG : S_IFBLK;
  case OBSD_DT_LNK: return S_IFLNK;
  case OBSD_DT_SOCK: return S_IFSOCK;
  case OBSD_DT_REG: return S_IFREG;
  default: return 0;
  }
}

/* The whole directory at once (offset 0 to the filler): getdents(2) from the start until it
 * returns nothing. */
static int hm_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
  (void)path;
  (void)offset;
  (void)flags;
  int64_t r = KCALL(OBSD_SYS_lseek, INT(fi->fh), INT(0), INT(0), INT(0 /* SEEK_SET */));
  if (r < 0) return (int)r;
  size_t size = 64 * 1024;
  char *records = malloc(size);
  if (records == NULL) return -ENOMEM;
  for (;;) {
    r = KCALL(OBSD_SYS_getdents, INT(fi->fh), OUT(records, size), INT(size));
    if (r <= 0) break;
    for (int64_t at = 0; at + OBSD_DIRENT_NAME <= r;) {
      uint64_t fileno;
      uint16_t reclen;
      memcpy(&fileno, records + at, 8);
      memcpy(&reclen, records + at + 16, 2);
      uint8_t type = (uint8_t)records[at + 18], namlen = (uint8_t)records[at + 19];
      if (reclen < OBSD_DIRENT_NAME || at + reclen > r || OBSD_DIRENT_NAME + namlen >= reclen) {
        r = -EIO;
        break;
      }
      char name[256];
      memcpy(name, records + at + OBSD_DIRENT_NAME, namlen);
      name[namlen] = 0;
      if (fileno != 0) {
        struct stat st = {.st_ino = fileno, .st_mode = dirent_type(type)};
        if (filler(buf, name, &st, 0, 0) != 0) {
          r = -ENOMEM;
          break;
        }
      }
      at += reclen;
    }
    if (r < 0) break;
  }
  free(records);
  return r < 0 ? (int)r : 0;
}

static int hm_releasedir(const char *path, struct fuse_file_info *fi) {
  (void)path;
  return (int)KCALL(OBSD_SYS_close, INT(fi->fh));
}

/* utimes(2) takes microseconds; UTIME_OMIT keeps the time the kernel has (lstat first). */
static int hm_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
  (void)fi;
  KPATH(kp, path);
  if (tv == NULL || (tv[0].tv_nsec == UTIME_NOW && tv[1].tv_nsec == UTIME_NOW))
    return (int)KCALL(OBSD_SYS_utimes, STR(kp), INT(0));
  struct obsd_stat k = {0};
  if (tv[0].tv_nsec == UTIME_OMIT || tv[1].tv_nsec == UTIME_OMIT) {
    int r = kernel_lstat(kp, &k);
    if (r < 0) return r;
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct obsd_timeval times[2];
  const struct obsd_timespec kept[2] = {k.st_atim, k.st_mtim};
  for (int i = 0; i < 2; i++) {
    if (tv[i].tv_nsec == UTIME_OMIT) {
      times[i].tv_sec = kept[i].tv_sec;
      times[i].tv_usec = kept[i].tv_nsec / 1000;
    } else if (tv[i].tv_nsec == UTIME_NOW) {
      times[i].tv_sec = now.tv_sec;
      times[i].tv_usec = now.tv_nsec / 1000;
    } else {
      times[i].tv_sec = tv[i].tv_sec;
      times[i].tv_usec = tv[i].tv_nsec / 1000;
    }
  }
  return (int)KCALL(OBSD_SYS_utimes, STR(kp), IN(times, sizeof times));
}

/* ioctl(2) on a device of the exported /dev: FUSE's restricted ioctls, where the host kernel
 * sizes the argument from the command's Linux encoding; the command goes to the driver in
 * OpenBSD's. */
static int hm_ioctl(const char *path, unsigned int cmd, void *arg, struct fuse_file_info *fi,
                    unsigned int flags, void *data) {
  (void)path;
  if (!config->devices) return -ENOTTY;
  if (flags & FUSE_IOCTL_COMPAT) return -ENOSYS;
  uint32_t command = lkmhm_openbsd_ioctl(cmd);
  size_t size = _IOC_SIZE(cmd);
  if (size == 0 || data == NULL)
    return (int)KCALL(OBSD_SYS_ioctl, INT(FD(fi)), INT(command), INT((intptr_t)arg));
  if (size > OBSD_IOCPARM_MASK) return -ENOTTY;
  struct lkmhm_arg both = INOUT(data, size);
  struct lkmhm_arg args[] = {INT(FD(fi)), INT(command), both};
  int64_t r = kcall(OBSD_SYS_ioctl, args, 3);
  return (int)r;
}

static void *hm_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  /* Writes of up to 1 MiB (libfuse's buffer holds 256 pages): fewer round trips to lkmd. */
  if (conn->max_write < (1u << 20)) conn->max_write = 1u << 20;
  cfg->use_ino = 1;      /* the kernel's inode numbers */
  cfg->hard_remove = 1;  /* the kernel keeps an unlinked file while it is open */
  cfg->entry_timeout = 1.0;
  cfg->attr_timeout = 1.0;
  cfg->negative_timeout = 0;
  if (config->devices) cfg->direct_io = 1;
  return NULL;
}

static const struct fuse_operations operations = {
    .getattr = hm_getattr,
    .readlink = hm_readlink,
    .mkdir = hm_mkdir,
    .unlink = hm_unlink,
    .rmdir = hm_rmdir,
    .symlink = hm_symlink,
    .rename = hm_rename,
    .link = hm_link,
    .chmod = hm_chmod,
    .chown = hm_chown,
    .truncate = hm_truncate,
    .open = hm_open,
    .read = hm_read,
    .write = hm_write,
    .statfs = hm_statfs,
    .release = hm_release,
    .fsync = hm_fsync,
    .opendir = hm_opendir,
    .readdir = hm_readdir,
    .releasedir = hm_releasedir,
    .init = hm_init,
    .create = hm_create,
    .utimens = hm_utimens,
    .ioctl = hm_ioctl,
};

/* ---- Serving ---- */

int lkmhm_serve(const struct lkmhm_config *c, char *error, size_t error_size) {
  config = c;
  server_thread = pthread_self();
  error[0] = 0;
  char options[512];
  snprintf(options, sizeof options, "fsname=%s,subtype=lkm,allow_other,default_permissions",
           c->fsname);
  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  if (fuse_opt_add_arg(&args, "lkm-mount") || fuse_opt_add_arg(&args, "-o") ||
      fuse_opt_add_arg(&args, options) || (c->debug && fuse_opt_add_arg(&args, "-d"))) {
    snprintf(error, error_size, "out of memory");
    fuse_opt_free_args(&args);
    return -1;
  }
  struct fuse *fuse = fuse_new(&args, &operations, sizeof operations, NULL);
  fuse_opt_free_args(&args);
  if (fuse == NULL) {
    snprintf(error, error_size, "fuse_new failed (libfuse wrote why to standard error)");
    return -1;
  }
  if (fuse_mount(fuse, c->mountpoint) != 0) {
    snprintf(error, error_size, "cannot mount with FUSE (is /dev/fuse usable? libfuse wrote why)");
    fuse_destroy(fuse);
    return -1;
  }
  struct fuse_session *session = fuse_get_session(fuse);
  if (fuse_set_signal_handlers(session) != 0) {
    snprintf(error, error_size, "cannot install signal handlers");
    fuse_unmount(fuse);
    fuse_destroy(fuse);
    return -1;
  }
  if (c->ready != NULL) c->ready(c->context);
  struct fuse_loop_config *loop = fuse_loop_cfg_create();
  if (loop != NULL && c->max_threads > 0) fuse_loop_cfg_set_max_threads(loop, (unsigned)c->max_threads);
  if (loop != NULL) fuse_loop_cfg_set_idle_threads(loop, 4);
  int rc = fuse_loop_mt(fuse, loop);
  /* From here a second SIGTERM (the watch's and lkmd's may both come) must not end the process
   * before it has unmounted and its caller removed the record: blocked, it stays pending. */
  sigset_t ending;
  sigemptyset(&ending);
  sigaddset(&ending, SIGTERM);
  sigaddset(&ending, SIGINT);
  sigaddset(&ending, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &ending, NULL);
  if (loop != NULL) fuse_loop_cfg_destroy(loop);
  fuse_remove_signal_handlers(session);
  fuse_unmount(fuse);
  fuse_destroy(fuse);
  if (rc < 0) {
    snprintf(error, error_size, "the FUSE loop failed: %s", strerror(-rc));
    return -1;
  }
  return 0;
}

void lkmhm_close_from(int first) {
  if (close_range((unsigned)first, ~0u, 0) == 0) return;
  for (int fd = first; fd < 65536; fd++) close(fd);
}

/* libfuse's handler ends the loop; the signal goes to the serving thread, whose wait it
 * interrupts (FUSE's workers block every signal). */
void lkmhm_stop(void) { pthread_kill(server_thread, SIGTERM); }
