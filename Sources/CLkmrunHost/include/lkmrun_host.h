#ifndef LKMRUN_HOST_H
#define LKMRUN_HOST_H
/* Keeps lkmrun's references to the C library's data objects, so that the link gives lkmrun
 * copies of them (copy relocations) in its own low data: a -fno-pic or -mcmodel=kernel module,
 * mapped below 2 GiB, reaches those copies with 32-bit references, and the C library itself uses
 * them too. Returns how many there are. */
int lkmrun_host_data_count(void);

/* Where LKMRUN_REFERENCE stores the address it takes, so that the reference is kept. */
extern void *_Nullable volatile lkmrun_host_sink;

/* A PC-relative reference to `symbol` written in assembly, so that it stays direct whatever
 * -fPIC the build adds: ld answers it with a copy relocation. */
#define LKMRUN_REFERENCE(symbol)                                           \
  do {                                                                     \
    void *p;                                                               \
    __asm__ volatile("leaq " #symbol "(%%rip), %0" : "=r"(p));             \
    lkmrun_host_sink = p;                                                  \
  } while (0)

#include <stddef.h>

/* The names of the functions and objects the library `library` (a name dlopen found it by; it
 * must be loaded already) defines in its dynamic symbol table, each NUL-terminated, one after
 * another, in a buffer to free(3); *length is the buffer's size. NULL (and 0) when the library
 * is not loaded or has no table. */
char *_Nullable lkmrun_library_symbol_names(const char *_Nonnull library,
                                            size_t *_Nonnull length);

/* The size and alignment of the static TLS reservation modules' thread-local variables get. */
#define LKMRUN_TLS_RESERVE 65536
#define LKMRUN_TLS_ALIGNMENT 64

/* The calling thread's address of the reservation (its offset from the thread pointer is the
 * same in every thread). */
void *_Nonnull lkmrun_tls_reserve_address(void);
#endif
