/* lkm kernel headers: <sys/errno.h>, OpenBSD's numbers (not Linux's: ENOSYS is 78, EAGAIN 35). */
#ifndef _SYS_ERRNO_H_
#define _SYS_ERRNO_H_
#pragma GCC system_header

#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define ENOEXEC 8
#define EBADF 9
#define ECHILD 10
#define EDEADLK 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define ENOTBLK 15
#define EBUSY 16
#define EEXIST 17
#define EXDEV 18
#define ENODEV 19
#define ENOTDIR 20
#define EISDIR 21
#define EINVAL 22
#define ENFILE 23
#define EMFILE 24
#define ENOTTY 25
#define ETXTBSY 26
#define EFBIG 27
#define ENOSPC 28
#define ESPIPE 29
#define EROFS 30
#define EMLINK 31
#define EPIPE 32
#define EDOM 33
#define ERANGE 34
#define EAGAIN 35
#define EWOULDBLOCK EAGAIN
#define EINPROGRESS 36
#define EALREADY 37
#define ELOOP 62
#define ENAMETOOLONG 63
#define EHOSTDOWN 64
#define EHOSTUNREACH 65
#define ENOTEMPTY 66
#define EPROCLIM 67
#define EUSERS 68
#define EDQUOT 69
#define ESTALE 70
#define ENOSYS 78
#define EFTYPE 79
#define EOPNOTSUPP 45

#ifdef _KERNEL
/* Pseudo-errors the kernel's code passes around, never returned to a process. */
#define ERESTART (-1)     /* restart the system call */
#define EJUSTRETURN (-2)  /* VOP_LOOKUP: the last name is free for CREATE or RENAME */
#endif

#endif /* !_SYS_ERRNO_H_ */
