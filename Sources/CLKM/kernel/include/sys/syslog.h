/* lkm kernel headers: <sys/syslog.h>: log(9) and its priorities, where OpenBSD's kernel declares
 * them. log() writes to the message buffer (lkmctl dmesg) and lkmd's console. */
#ifndef _SYS_SYSLOG_H_
#define _SYS_SYSLOG_H_
#pragma GCC system_header

#include "cdefs.h"

#define LOG_EMERG 0    /* system is unusable */
#define LOG_ALERT 1    /* action must be taken immediately */
#define LOG_CRIT 2     /* critical conditions */
#define LOG_ERR 3      /* error conditions */
#define LOG_WARNING 4  /* warning conditions */
#define LOG_NOTICE 5   /* normal but significant condition */
#define LOG_INFO 6     /* informational */
#define LOG_DEBUG 7    /* debug-level messages */

#ifdef _KERNEL
__BEGIN_DECLS
void log(int, const char *, ...) __attribute__((__format__(__printf__, 2, 3)));
__END_DECLS
#endif

#endif /* !_SYS_SYSLOG_H_ */
