#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <elf.h>
#include <link.h>
#include "host_symbols.h"

int host_symbol_info(const void *address, unsigned long *size, int *type) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  if (dladdr1(address, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 || sym == NULL) return 0;
  *size = sym->st_size;
  *type = ELF64_ST_TYPE(sym->st_info);
  return 1;
}
