/* The system call table as the kernel boots it (OpenBSD's init_sysent.c): its own calls under
 * OpenBSD's numbers, the sys_lkmnosys placeholders at 210-219 for loadable ones, nosys
 * (ENOSYS) everywhere else. After every file that implements a call, before kern_main.c.
 * Written against the module headers (kern_local.h). */
#include "kern_local.h"

#define CALL(n, fn, args) {SYS_##n, sizeof(struct sys_##n##_args) / sizeof(register_t), \
                           sizeof(struct sys_##n##_args), fn}
#define CALL0(n, fn) {SYS_##n, 0, 0, fn}

static const struct {
  int number;
  short narg;
  short argsize;
  sy_call_t *call;
} builtin[] = {
    CALL(read, sys_read, 3),       CALL(write, sys_write, 3),     CALL(open, sys_open, 3),
    CALL(close, sys_close, 1),     CALL(link, sys_link, 2),       CALL(unlink, sys_unlink, 1),
    CALL(mknod, sys_mknod, 3),     CALL(chmod, sys_chmod, 2),     CALL(chown, sys_chown, 3),
    CALL0(getpid, sys_getpid),     CALL(mount, sys_mount, 4),     CALL(unmount, sys_unmount, 2),
    CALL0(getuid, sys_getuid),     CALL0(geteuid, sys_geteuid),   CALL(access, sys_access, 2),
    CALL(stat, sys_stat, 2),       CALL(lstat, sys_lstat, 2),     CALL0(getegid, sys_getegid),
    CALL0(getgid, sys_getgid),     CALL(fstat, sys_fstat, 2),     CALL(ioctl, sys_ioctl, 3),
    CALL(symlink, sys_symlink, 2), CALL(readlink, sys_readlink, 3),
    CALL(getfsstat, sys_getfsstat, 3), CALL(statfs, sys_statfs, 2), CALL(utimes, sys_utimes, 2),
    CALL(fcntl, sys_fcntl, 3),     CALL(fsync, sys_fsync, 1),     CALL(getdents, sys_getdents, 3),
    CALL(rename, sys_rename, 2),   CALL(mkdir, sys_mkdir, 2),     CALL(rmdir, sys_rmdir, 1),
    CALL(pread, sys_pread, 5),     CALL(pwrite, sys_pwrite, 5),   CALL(lseek, sys_lseek, 4),
    CALL(truncate, sys_truncate, 3), CALL(ftruncate, sys_ftruncate, 3),
    CALL(__sysctl, sys___sysctl, 6), CALL(poll, sys_poll, 3),
};

/* nosys everywhere, sys_lkmnosys at 210-219, then the kernel's own calls. */
void clkm_sysent_install(void) {
  for (int i = 0; i < SYS_MAXSYSCALL; i++) kern_sysent[i] = (struct sysent){0, 0, 0, nosys};
  for (int i = 210; i <= 219; i++) kern_sysent[i] = (struct sysent){0, 0, 0, sys_lkmnosys};
  for (size_t i = 0; i < nitems(builtin); i++)
    kern_sysent[builtin[i].number] =
        (struct sysent){builtin[i].narg, builtin[i].argsize, 0, builtin[i].call};
}

/* The name of a built-in call (for messages), or NULL. */
const char *clkm_syscall_name(int number) {
  static const struct {
    int number;
    const char *name;
  } names[] = {{SYS_read, "read"},       {SYS_write, "write"},     {SYS_open, "open"},
               {SYS_close, "close"},     {SYS_link, "link"},       {SYS_unlink, "unlink"},
               {SYS_mknod, "mknod"},     {SYS_chmod, "chmod"},     {SYS_chown, "chown"},
               {SYS_getpid, "getpid"},   {SYS_mount, "mount"},     {SYS_unmount, "unmount"},
               {SYS_getuid, "getuid"},   {SYS_geteuid, "geteuid"}, {SYS_access, "access"},
               {SYS_stat, "stat"},       {SYS_lstat, "lstat"},     {SYS_getegid, "getegid"},
               {SYS_getgid, "getgid"},   {SYS_fstat, "fstat"},     {SYS_ioctl, "ioctl"},
               {SYS_symlink, "symlink"}, {SYS_readlink, "readlink"},
               {SYS_getfsstat, "getfsstat"}, {SYS_statfs, "statfs"}, {SYS_utimes, "utimes"},
               {SYS_fcntl, "fcntl"},     {SYS_fsync, "fsync"},     {SYS_getdents, "getdents"},
               {SYS_rename, "rename"},   {SYS_mkdir, "mkdir"},     {SYS_rmdir, "rmdir"},
               {SYS_pread, "pread"},     {SYS_pwrite, "pwrite"},   {SYS_lseek, "lseek"},
               {SYS_truncate, "truncate"}, {SYS_ftruncate, "ftruncate"},
               {SYS___sysctl, "__sysctl"}, {SYS_poll, "poll"}};
  for (size_t i = 0; i < nitems(names); i++)
    if (names[i].number == number) return names[i].name;
  return NULL;
}

/* The kernel's system calls by name, for modules that call one (a wrapper may keep the old
 * sysent entry instead, as OpenBSD's LKMs did). */
size_t clkm_sysent_exports(clkm_export_t *table, size_t room) {
  size_t n = 0;
  static char names[nitems(builtin)][32];
  clkm_export_t list[nitems(builtin)];
  for (size_t i = 0; i < nitems(builtin); i++) {
    const char *name = clkm_syscall_name(builtin[i].number);
    if (name == NULL) continue;
    snprintf(names[i], sizeof names[i], "sys_%s", name);
    list[n++] = (clkm_export_t)CLKM_FUNC(names[i], builtin[i].call);
  }
  return clkm_copy_exports(table, room, list, n);
}
