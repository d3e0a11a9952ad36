/* lkm kernel headers: <sys/syscall.h>: system call numbers, OpenBSD's (the table of 5.5 and
 * later, whose struct stat and struct dirent this kernel uses; the slots 210-219 stay the
 * sys_lkmnosys placeholders of OpenBSD's LKM kernels). The kernel implements these; every
 * other slot below SYS_MAXSYSCALL is nosys (ENOSYS) until a module fills it. */
#ifndef _SYS_SYSCALL_H_
#define _SYS_SYSCALL_H_
#pragma GCC system_header

#define SYS_syscall 0
#define SYS_exit 1
#define SYS_read 3
#define SYS_write 4
#define SYS_open 5
#define SYS_close 6
#define SYS_link 9
#define SYS_unlink 10
#define SYS_mknod 14
#define SYS_chmod 15
#define SYS_chown 16
#define SYS_getpid 20
#define SYS_mount 21
#define SYS_unmount 22
#define SYS_getuid 24
#define SYS_geteuid 25
#define SYS_access 33
#define SYS_stat 38
#define SYS_lstat 40
#define SYS_getegid 43
#define SYS_getgid 47
#define SYS_fstat 53
#define SYS_ioctl 54
#define SYS_symlink 57
#define SYS_readlink 58
#define SYS_getfsstat 62
#define SYS_statfs 63
#define SYS_utimes 76
#define SYS_fcntl 92
#define SYS_fsync 95
#define SYS_getdents 99
#define SYS_rename 128
#define SYS_mkdir 136
#define SYS_rmdir 137
#define SYS_pread 173
#define SYS_pwrite 174
#define SYS_lseek 199
#define SYS_truncate 200
#define SYS_ftruncate 201
#define SYS___sysctl 202
#define SYS_poll 252
#define SYS_MAXSYSCALL 311

#endif /* !_SYS_SYSCALL_H_ */
