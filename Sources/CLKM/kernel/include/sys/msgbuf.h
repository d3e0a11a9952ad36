/* lkm kernel headers: <sys/msgbuf.h>: the kernel message buffer (what lkmctl dmesg prints).
 * OpenBSD's kernfs reads struct msgbuf directly; this kernel's buffer is shared with lkmd's
 * supervisor, and modules read it with msgbuf_copy (this kernel's, not OpenBSD's). */
#ifndef _SYS_MSGBUF_H_
#define _SYS_MSGBUF_H_
#pragma GCC system_header

#include "types.h"
#include "cdefs.h"

#ifdef _KERNEL
__BEGIN_DECLS
/* Copies the oldest bytes of the message buffer into buf (at most size; nothing if buf is NULL)
 * and returns the buffer's length. */
size_t msgbuf_copy(char *buf, size_t size);
__END_DECLS
#endif

#endif /* !_SYS_MSGBUF_H_ */
