/* lkm kernel headers: <sys/stat.h>: struct stat (OpenBSD/amd64's, 128 bytes: what stat(2),
 * lstat(2) and fstat(2) fill) and file modes, OpenBSD's values (S_IFCHR and S_IFBLK are what
 * the kernel passes to d_open and d_close as devtype). */
#ifndef _SYS_STAT_H_
#define _SYS_STAT_H_
#pragma GCC system_header

#include "types.h"
#include "time.h"

struct stat {
	mode_t st_mode;            /* inode protection mode */
	dev_t st_dev;              /* inode's device */
	ino_t st_ino;              /* inode's number */
	nlink_t st_nlink;          /* number of hard links */
	uid_t st_uid;              /* user ID of the file's owner */
	gid_t st_gid;              /* group ID of the file's group */
	dev_t st_rdev;             /* device type */
	struct timespec st_atim;   /* time of last access */
	struct timespec st_mtim;   /* time of last data modification */
	struct timespec st_ctim;   /* time of last file status change */
	off_t st_size;             /* file size, in bytes */
	int64_t st_blocks;         /* blocks allocated for file */
	int32_t st_blksize;        /* optimal blocksize for I/O */
	u_int32_t st_flags;        /* user defined flags for file */
	u_int32_t st_gen;          /* file generation number */
	struct timespec __st_birthtim; /* time of file creation */
};
#define st_atime st_atim.tv_sec
#define st_mtime st_mtim.tv_sec
#define st_ctime st_ctim.tv_sec

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
#define S_ISLNK(m) (((m) & S_IFMT) == S_IFLNK)
#define S_ISFIFO(m) (((m) & S_IFMT) == S_IFIFO)
#define S_ISSOCK(m) (((m) & S_IFMT) == S_IFSOCK)
#define S_ISUID 0004000
#define S_ISGID 0002000
#define S_ISTXT 0001000
#define ACCESSPERMS 0000777
#define ALLPERMS 0007777
#define DEFFILEMODE 0000666

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
