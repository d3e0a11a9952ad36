#ifndef CFUSE3_SHIM_H
#define CFUSE3_SHIM_H
/* libfuse 3's high-level API (Debian's libfuse3-dev), 3.12's interface: only CHostMount
 * includes it. */
#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse.h>
#endif
