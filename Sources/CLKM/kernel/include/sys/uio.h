/* lkm kernel headers: <sys/uio.h>: scatter/gather I/O descriptions (struct uio) and uiomove(9),
 * with OpenBSD's names and layout. A device's read and write entries and a file system's
 * VOP_READ, VOP_WRITE and VOP_READDIR get a uio describing the caller's buffer; they move bytes
 * with uiomove, which advances uio_offset and lowers uio_resid. */
#ifndef _SYS_UIO_H_
#define _SYS_UIO_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

struct iovec {
	void *iov_base;  /* base address */
	size_t iov_len;  /* length */
};

enum uio_rw { UIO_READ, UIO_WRITE };

/* Segment flag values: where the iovecs point. */
enum uio_seg {
	UIO_USERSPACE,  /* the requesting process's buffer (copyin/copyout) */
	UIO_SYSSPACE    /* kernel memory */
};

struct proc;

struct uio {
	struct iovec *uio_iov;   /* pointer to array of iovecs */
	int uio_iovcnt;          /* number of iovecs in array */
	off_t uio_offset;        /* offset into file this uio corresponds to */
	size_t uio_resid;        /* residual I/O count */
	enum uio_seg uio_segflg; /* see above */
	enum uio_rw uio_rw;      /* see above */
	struct proc *uio_procp;  /* associated process */
};

#define UIO_MAXIOV 1024

/* Moves up to n bytes between cp and the buffers uio describes: from cp into them for UIO_READ,
 * from them into cp for UIO_WRITE. Returns 0 or EFAULT. */
#ifdef _KERNEL
__BEGIN_DECLS
int uiomove(void *cp, size_t n, struct uio *uio);
__END_DECLS
#endif

#endif /* !_SYS_UIO_H_ */
