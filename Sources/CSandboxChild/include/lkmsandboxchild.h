/* CSandboxChild: linked into lkm-sandbox-child only. It replaces malloc, calloc, realloc,
 * aligned_alloc, memalign and posix_memalign with forwarders to the C library's own that, when
 * an allocation fails, set a word the parent can read: so that a child that dies because the
 * address-space limit refused memory (the Swift runtime traps on a failed allocation, with no
 * message) is reported as out of memory, not as a loader crash. */
#ifndef LKMSANDBOXCHILD_H
#define LKMSANDBOXCHILD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a failed allocation stores 1 (NULL: nowhere). */
void lkmsb_set_oom_word(int32_t *_Nullable word);

#ifdef __cplusplus
}
#endif
#endif
