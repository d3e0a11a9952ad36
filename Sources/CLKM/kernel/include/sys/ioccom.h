/* lkm kernel headers: <sys/ioccom.h>: ioctl command encoding, as on OpenBSD. The command says
 * which way its argument goes (IOC_IN: into the driver, IOC_OUT: back to the caller) and how
 * many bytes it has; the kernel copies that many bytes in and out around d_ioctl. */
#ifndef _SYS_IOCCOM_H_
#define _SYS_IOCCOM_H_
#pragma GCC system_header

#define IOCPARM_MASK 0x1fff              /* parameter length, at most 13 bits */
#define IOCPARM_LEN(x) (((x) >> 16) & IOCPARM_MASK)
#define IOCBASECMD(x) ((x) & ~(IOCPARM_MASK << 16))
#define IOCGROUP(x) (((x) >> 8) & 0xff)
#define IOCPARM_MAX (1 << 12)            /* max size of ioctl args (4096) */

#define IOC_VOID 0x20000000UL            /* no parameters */
#define IOC_OUT 0x40000000UL             /* copy parameters out */
#define IOC_IN 0x80000000UL              /* copy parameters in */
#define IOC_INOUT (IOC_IN | IOC_OUT)
#define IOC_DIRMASK 0xe0000000UL

#define _IOC(inout, group, num, len) \
	((inout) | (((len) & IOCPARM_MASK) << 16) | ((group) << 8) | (num))
#define _IO(g, n) _IOC(IOC_VOID, (g), (n), 0)
#define _IOR(g, n, t) _IOC(IOC_OUT, (g), (n), sizeof(t))
#define _IOW(g, n, t) _IOC(IOC_IN, (g), (n), sizeof(t))
#define _IOWR(g, n, t) _IOC(IOC_INOUT, (g), (n), sizeof(t))

#endif /* !_SYS_IOCCOM_H_ */
