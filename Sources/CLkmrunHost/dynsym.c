/* The names a loaded library defines, read from its dynamic symbol table in memory (the one
 * ld.so resolves against): lkmrun's "did you mean" for an undefined symbol, computed only when
 * a link has failed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lkmrun_host.h"

/* A dynamic entry's address: ld.so relocates most in place, but not on every system. */
static uintptr_t address(ElfW(Addr) value, ElfW(Addr) base) {
  return value < base ? (uintptr_t)(value + base) : (uintptr_t)value;
}

/* The number of symbols a DT_GNU_HASH table covers: past the highest bucket's chain end. */
static size_t gnu_hash_count(const uint32_t *table) {
  uint32_t buckets = table[0], offset = table[1], bloom = table[2];
  const uint32_t *bucket = (const uint32_t *)((const ElfW(Addr) *)(table + 4) + bloom);
  const uint32_t *chain = bucket + buckets;
  uint32_t last = 0;
  for (uint32_t i = 0; i < buckets; i++)
    if (bucket[i] > last) last = bucket[i];
  if (last < offset) return offset;
  while ((chain[last - offset] & 1) == 0) last++;
  return (size_t)last + 1;
}

char *lkmrun_library_symbol_names(const char *library, size_t *length) {
  *length = 0;
  void *handle = dlopen(library, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == NULL) return NULL;
  struct link_map *map = NULL;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL || map->l_ld == NULL) {
    dlclose(handle);
    return NULL;
  }
  const ElfW(Sym) *symbols = NULL;
  const char *strings = NULL;
  size_t strings_size = 0, count = 0;
  const uint32_t *hash = NULL, *gnu_hash = NULL;
  for (const ElfW(Dyn) *d = map->l_ld; d->d_tag != DT_NULL; d++) {
    switch (d->d_tag) {
    case DT_SYMTAB: symbols = (const ElfW(Sym) *)address(d->d_un.d_ptr, map->l_addr); break;
    case DT_STRTAB: strings = (const char *)address(d->d_un.d_ptr, map->l_addr); break;
    case DT_STRSZ: strings_size = d->d_un.d_val; break;
    case DT_HASH: hash = (const uint32_t *)address(d->d_un.d_ptr, map->l_addr); break;
    case DT_GNU_HASH: gnu_hash = (const uint32_t *)address(d->d_un.d_ptr, map->l_addr); break;
    }
  }
  if (hash != NULL) count = hash[1];
  else if (gnu_hash != NULL) count = gnu_hash_count(gnu_hash);
  char *names = NULL;
  size_t used = 0, room = 0;
  for (size_t i = 1; symbols != NULL && strings != NULL && i < count; i++) {
    const ElfW(Sym) *s = &symbols[i];
    int type = ELF64_ST_TYPE(s->st_info), binding = ELF64_ST_BIND(s->st_info);
    if (s->st_shndx == SHN_UNDEF || s->st_name >= strings_size) continue;
    if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC && type != STT_TLS) continue;
    if (binding != STB_GLOBAL && binding != STB_WEAK && binding != STB_GNU_UNIQUE) continue;
    const char *name = strings + s->st_name;
    size_t n = strnlen(name, strings_size - s->st_name) + 1;
    if (used + n > room) {
      room = (used + n) * 2 + 4096;
      char *grown = realloc(names, room);
      if (grown == NULL) break;
      names = grown;
    }
    memcpy(names + used, name, n);
    names[used + n - 1] = 0;
    used += n;
  }
  dlclose(handle);
  *length = used;
  return names;
}
