/* lkm kernel headers: <sys/buf.h>: the buffer a block device's d_strategy gets (a small
 * struct buf with OpenBSD's member names) and biodone(9).
 *
 * The kernel turns a read or write of a block device node into transfers of whole DEV_BSIZE
 * blocks: it fills b_flags (B_READ for a read, B_WRITE for a write), b_blkno, b_bcount and
 * b_data, and calls d_strategy(bp). The driver moves the bytes, sets b_resid to what it did not
 * transfer (b_bcount at the end of the device), on failure sets B_ERROR and b_error, and calls
 * biodone(bp) before it returns: I/O is synchronous, and a buffer not marked B_DONE when
 * d_strategy returns fails with EIO. */
#ifndef _SYS_BUF_H_
#define _SYS_BUF_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

#ifndef DEV_BSIZE
#define DEV_BSHIFT 9                 /* log2(DEV_BSIZE) */
#define DEV_BSIZE (1 << DEV_BSHIFT)  /* the unit of b_blkno: 512 bytes */
#endif

struct proc;

struct buf {
	long b_flags;         /* B_* flags */
	int b_error;          /* errno when B_ERROR is set */
	dev_t b_dev;          /* the device */
	long b_bcount;        /* bytes to transfer */
	size_t b_resid;       /* bytes not transferred */
	caddr_t b_data;       /* the data (kernel memory, b_bcount bytes) */
	daddr_t b_blkno;      /* first block, in DEV_BSIZE units */
	struct proc *b_proc;  /* the process the I/O is for */
};

/* b_flags, OpenBSD's values */
#define B_WRITE 0x00000000  /* write: the absence of B_READ */
#define B_BUSY 0x00000010
#define B_DONE 0x00000100   /* I/O completed (biodone) */
#define B_ERROR 0x00000400  /* I/O error occurred; b_error says which */
#define B_PHYS 0x00002000
#define B_READ 0x00008000   /* read: data moves from the device into b_data */

/* Marks a buffer's I/O complete. */
__BEGIN_DECLS
void biodone(struct buf *bp);
__END_DECLS

#endif /* !_SYS_BUF_H_ */
