#ifndef HOST_SYMBOLS_H
#define HOST_SYMBOLS_H
/* What ld.so knows of the host's objects that Swift cannot ask it (dladdr1, dlinfo and
 * dl_iterate_phdr need _GNU_SOURCE). */

/* The ELF symbol covering `address` in a loaded library: its st_size and STT_* type.
 * Returns 1, or 0 if no symbol covers it. */
int host_symbol_info(const void *_Nonnull address, unsigned long *_Nonnull size,
                     int *_Nonnull type);

/* What the dynamic symbol table of the loaded object holding `address` says of `name` there, found
 * through the object's GNU hash table (dladdr1 scans the whole table): its st_size and STT_*
 * type (an IFUNC's symbol when `address` is the function it resolved to), and the permissions of
 * the segment holding `address` as they are after relocation (RELRO is read-only).
 * Returns 1, or 0 if the object has no such symbol at `address` (then ask host_symbol_info). */
int host_symbol_facts(const void *_Nonnull address, const char *_Nonnull name,
                      unsigned long *_Nonnull size, int *_Nonnull type, int *_Nonnull writable,
                      int *_Nonnull executable);

/* The permissions of the loaded segment holding `address`, after relocation. Returns 1, or 0 if
 * no loaded object holds it. */
int host_segment_permissions(const void *_Nonnull address, int *_Nonnull writable,
                             int *_Nonnull executable);

/* The GNU build ID (NT_GNU_BUILD_ID) of the loaded object one of whose segments holds
 * `address`, copied into `out` (at most `capacity` bytes). Returns its length, 0 if the object
 * has none, or -1 if no loaded object holds `address`. */
int host_build_id(const void *_Nonnull address, unsigned char *_Nonnull out, int capacity);

/* The build ID of the object a dlopen handle stands for, as host_build_id. Its file's path is
 * copied into `path` (at most `path_capacity` bytes, NUL-terminated) for objects without one. */
int host_build_id_of_handle(void *_Nonnull handle, unsigned char *_Nonnull out, int capacity,
                            char *_Nonnull path, int path_capacity);

/* dlvsym(3): `name` of version `version` in the object `handle` stands for (RTLD_DEFAULT when
 * NULL), for a reference `name@version` (.symver). */
void *_Nullable host_versioned_symbol(void *_Nullable handle, const char *_Nonnull name,
                                      const char *_Nonnull version);

#include <stddef.h>
#include <stdint.h>

/* Thread-local storage (tls.c). */

/* The module number of a TLS index {module, offset} (general and local dynamic) whose offset is
 * from the thread pointer: the only kind the linker writes. */
#define HOST_TLS_STATIC_MODULE 0x6c6b6d2d544c5331ul

/* The calling thread's thread pointer (%fs:0). */
uintptr_t host_thread_pointer(void);

/* The addresses of the module-facing __tls_get_addr (an index of HOST_TLS_STATIC_MODULE is an
 * offset from the thread pointer; any other is glibc's) and of the resolver of a static TLS
 * descriptor {resolver, offset from the thread pointer}. */
void host_tls_functions(uintptr_t *_Nonnull get_addr, uintptr_t *_Nonnull descriptor_resolver);

/* Whether `address` (a host symbol dlsym gave) is a thread-local variable of the calling thread's
 * static TLS: in no loaded object, within 1 MiB below the thread pointer. Sets `offset` to its
 * offset from the thread pointer (the same in every thread) and returns 1; else 0. */
int host_static_tls_offset(const void *_Nonnull address, long *_Nonnull offset);

/* Writes `size` bytes then `zeros` zero bytes at `offset` from the thread pointer into the
 * initialization image of the PT_TLS block holding it (which ld.so copies into every thread
 * created afterwards: the block must be in its file-backed part, .tdata) and into the calling
 * thread's block. Returns 0, or -1 when no block's image holds the range or it cannot be made
 * writable. */
int host_static_tls_write(long offset, const void *_Nullable bytes, size_t size, size_t zeros);
#endif
