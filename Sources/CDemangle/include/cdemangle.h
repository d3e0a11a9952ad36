/* The C++ runtime's demangler, for messages about C++ modules (LKMKernel's link hints). */
#ifndef CDEMANGLE_H
#define CDEMANGLE_H

#include <stddef.h>

/* The demangled form of an Itanium C++ name (_Z6printfPKcz -> printf(char const*, ...)) into
 * buf (size bytes, NUL-terminated); 0, or -1 when name is not a valid mangled name or buf is too
 * small. The corresponding C++ function is abi::__cxa_demangle. */
int cdemangle(const char *_Nonnull name, char *_Nonnull buf, size_t size);

#endif

#ifndef CDEMANGLE_LIBC_H
#define CDEMANGLE_LIBC_H
/* Whether the host's C library (libc or libm, as loaded in this process) defines a function of
 * this name (dlsym, then dladdr to see which library it came from). */
int cdemangle_is_libc_function(const char *_Nonnull name);
#endif
