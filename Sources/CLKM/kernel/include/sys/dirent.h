/* lkm kernel headers: <sys/dirent.h>: the directory entries VOP_READDIR writes into its uio,
 * OpenBSD's struct dirent. Each record is DIRENT_RECSIZE(d_namlen) bytes; d_off is the
 * uio_offset at which reading resumes after this entry. */
#ifndef _SYS_DIRENT_H_
#define _SYS_DIRENT_H_
#pragma GCC system_header

#include "types.h"

#define MAXNAMLEN 255

struct dirent {
	ino_t d_fileno;           /* file number of entry */
	off_t d_off;              /* offset after this entry */
	u_int16_t d_reclen;       /* length of this record */
	u_int8_t d_type;          /* file type, see below */
	u_int8_t d_namlen;        /* length of string in d_name */
	u_int8_t __d_padding[4];  /* suppress implicit padding */
	char d_name[MAXNAMLEN + 1]; /* name must be no longer than this */
};

/* File types */
#define DT_UNKNOWN 0
#define DT_FIFO 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_BLK 6
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12

/* The size of a record with a name of namlen bytes: header, name, NUL, rounded up to 8. */
#define DIRENT_RECSIZE(namlen) \
	((__builtin_offsetof(struct dirent, d_name) + (namlen) + 1 + 7) & ~7)

#endif /* !_SYS_DIRENT_H_ */
