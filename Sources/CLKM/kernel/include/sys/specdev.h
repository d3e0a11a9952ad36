/* lkm kernel headers: <sys/specdev.h>: the vnode operations of device special files (spec(9)).
 * A file system with device nodes (VCHR, VBLK: made by VOP_MKNOD) gets a vnode for one with
 * getnewvnode(), sets v_type, then checkalias() to give it its device, and a vector whose open,
 * close, read, write, ioctl and poll are these: they call the driver in cdevsw or bdevsw. */
#ifndef _SYS_SPECDEV_H_
#define _SYS_SPECDEV_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

struct mount;
struct vnode;

#ifdef _KERNEL
__BEGIN_DECLS
/* Makes vp (VCHR or VBLK) the device rdev (sets v_specinfo). Returns NULL: this kernel keeps no
 * aliases (on OpenBSD, an existing vnode of the device to use instead). */
struct vnode *checkalias(struct vnode *vp, dev_t rdev, struct mount *mp);
int spec_open(void *);
int spec_close(void *);
int spec_read(void *);
int spec_write(void *);
int spec_ioctl(void *);
int spec_poll(void *);
int spec_fsync(void *);
int spec_inactive(void *);
int spec_reclaim(void *);
__END_DECLS
#endif

#endif /* !_SYS_SPECDEV_H_ */
