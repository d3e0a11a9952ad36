/* lkm kernel headers: <sys/stat.h>: file modes, OpenBSD's values (S_IFCHR and S_IFBLK are what
 * the kernel passes to d_open and d_close as devtype). */
#ifndef _SYS_STAT_H_
#define _SYS_STAT_H_
#pragma GCC system_header

#define S_IFMT 0170000    /* type of file mask */
#define S_IFIFO 0010000   /* named pipe (fifo) */
#define S_IFCHR 0020000   /* character special */
#define S_IFDIR 0040000   /* directory */
#define S_IFBLK 0060000   /* block special */
#define S_IFREG 0100000   /* regular */
#define S_IFLNK 0120000   /* symbolic link */
#define S_IFSOCK 0140000  /* socket */

#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISCHR(m) (((m) & S_IFMT) == S_IFCHR)
#define S_ISBLK(m) (((m) & S_IFMT) == S_IFBLK)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)

#define S_IRWXU 0000700
#define S_IRUSR 0000400
#define S_IWUSR 0000200
#define S_IXUSR 0000100
#define S_IRWXG 0000070
#define S_IRGRP 0000040
#define S_IWGRP 0000020
#define S_IXGRP 0000010
#define S_IRWXO 0000007
#define S_IROTH 0000004
#define S_IWOTH 0000002
#define S_IXOTH 0000001

#endif /* !_SYS_STAT_H_ */
