#ifndef HOST_SYMBOLS_H
#define HOST_SYMBOLS_H
/* What ld.so knows of a host symbol that Swift cannot ask it (dladdr1 needs _GNU_SOURCE). */

/* The ELF symbol covering `address` in a loaded library: its st_size and STT_* type.
 * Returns 1, or 0 if no symbol covers it. */
int host_symbol_info(const void *_Nonnull address, unsigned long *_Nonnull size,
                     int *_Nonnull type);
#endif
