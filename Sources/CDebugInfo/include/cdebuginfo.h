/* CDebugInfo: what debuggers, profilers and oopses need of module code.
 *
 * - GDB's JIT interface (gdb manual, "JIT Compilation Interface"): the process defines
 *   __jit_debug_descriptor and __jit_debug_register_code (jit.c); each registered entry is an
 *   in-memory ELF object whose allocated sections carry their load addresses, which gdb reads
 *   as if from a file (symbols, DWARF, .eh_frame), when it attaches and at every
 *   registration. Entries are linked and unlinked under a mutex.
 * - Source lines from such an object's DWARF, with elfutils' libdwfl (lines.c). The DWARF is
 *   input: callers that must survive malformed DWARF call it under a fault guard.
 * - A call-frame unwinder over .eh_frame (unwind.c) that reads memory only through the
 *   caller's function, so that a kernel can bound every read.
 *
 * Our symbols are cdi_*; the JIT symbols are the names gdb looks for. */
#ifndef CDEBUGINFO_H
#define CDEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- GDB's JIT interface ---- */

/* One registered object: its bytes are the entry's own (cdi_jit_bytes). */
typedef struct cdi_jit_entry cdi_jit_entry_t;

/* A new entry of `size` bytes, not registered yet (NULL when out of memory). */
cdi_jit_entry_t *_Nullable cdi_jit_new(uint64_t size);
/* The entry's bytes, to fill before registering. */
void *_Nonnull cdi_jit_bytes(cdi_jit_entry_t *_Nonnull entry);
uint64_t cdi_jit_size(const cdi_jit_entry_t *_Nonnull entry);
/* Links the entry into the descriptor's list and tells a debugger (JIT_REGISTER_FN). */
void cdi_jit_register(cdi_jit_entry_t *_Nonnull entry);
/* Unlinks it (JIT_UNREGISTER_FN) if registered, then frees it. */
void cdi_jit_free(cdi_jit_entry_t *_Nonnull entry);
/* How many entries are registered (for tests). */
uint64_t cdi_jit_count(void);

/* Whether a debugger traces this process (TracerPid in /proc/self/status is not 0). Uses only
 * open, read and close: safe in a signal handler. */
int cdi_traced(void);

/* ---- Source lines (libdwfl) ---- */

/* The source line of `address` in an object whose allocated sections carry their load
 * addresses (what is registered with gdb): writes the file's base name (NUL-terminated, cut
 * to file_size) and the line, and returns 1; 0 when the object has no line for it. The
 * object's bytes are copied (libdwfl relocates the DWARF of a relocatable object in place). */
int cdi_source_line(const void *_Nonnull object, uint64_t size, uint64_t address,
                    char *_Nonnull file, size_t file_size, int *_Nonnull line);

/* Whether an object has a .debug_line section (0 or 1); -1 when its headers are unreadable. */
int cdi_has_line_info(const void *_Nonnull object, uint64_t size);

/* Opens libdw (dlopen, once; cdi_source_line does on first use): 0, or -1 when it cannot be
 * loaded (then no object has lines). A process that reads lines where loading a library is
 * unsafe or forbidden (under a fault guard, a seccomp filter) calls it beforehand. */
int cdi_load_line_reader(void);

/* ---- Unwinding over .eh_frame ---- */

/* x86-64 DWARF register numbers: rax rdx rcx rbx rsi rdi rbp rsp r8-r15, then the return
 * address column (16), which holds the frame's pc. */
#define CDI_REGS 17
#define CDI_RSP 7
#define CDI_PC 16

typedef struct cdi_regs {
  uint64_t value[CDI_REGS];
  uint32_t known; /* bit n: value[n] is known */
} cdi_regs_t;

typedef struct cdi_memory {
  /* Copies size bytes at address into out; 0 when they could be read, else -1. */
  int (*_Nonnull read)(void *_Nullable context, uint64_t address, void *_Nonnull out, size_t size);
  /* Where the CFI for pc is: an .eh_frame_hdr (*hdr not 0), or an .eh_frame to search from
   * *start to *end (a zero terminator may end it sooner). 0 when found, else -1. */
  int (*_Nonnull find)(void *_Nullable context, uint64_t pc, uint64_t *_Nonnull hdr,
                       uint64_t *_Nonnull start, uint64_t *_Nonnull end);
  void *_Nullable context;
} cdi_memory_t;

/* One step: from the frame in *regs to its caller's. `exact` says that regs' pc is the
 * faulting instruction itself (the first frame of a signal), not a return address. Returns 1
 * with *regs the caller's frame, 0 at the end of the stack (no CFI, the return address
 * undefined, or a read that failed). Every read goes through memory->read; nothing is
 * allocated. */
int cdi_unwind_step(const cdi_memory_t *_Nonnull memory, cdi_regs_t *_Nonnull regs, int exact);

#ifdef __cplusplus
}
#endif
#endif
