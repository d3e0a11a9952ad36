#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "host_symbols.h"

int host_symbol_info(const void *address, unsigned long *size, int *type) {
  Dl_info info;
  const ElfW(Sym) *sym = NULL;
  if (dladdr1(address, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 || sym == NULL) return 0;
  *size = sym->st_size;
  *type = ELF64_ST_TYPE(sym->st_info);
  return 1;
}

struct build_id_search {
  uintptr_t address;
  unsigned char *out;
  int capacity;
  int length;
};

/* The object's PT_NOTE segments, searched for NT_GNU_BUILD_ID ("GNU"). Notes are laid out by
 * the static linker: each header's sizes are trusted only within the segment. */
static int note_build_id(struct dl_phdr_info *info, struct build_id_search *s) {
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
    const char *end = p + ph->p_memsz;
    while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
      const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
      size_t name = (n->n_namesz + 3) & ~(size_t)3;
      size_t desc = (n->n_descsz + 3) & ~(size_t)3;
      if (name + desc > (size_t)(end - p) - sizeof *n) break;
      const char *text = p + sizeof *n;
      if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(text, "GNU", 4) == 0) {
        int length = (int)n->n_descsz < s->capacity ? (int)n->n_descsz : s->capacity;
        memcpy(s->out, text + name, (size_t)length);
        return length;
      }
      p += sizeof *n + name + desc;
    }
  }
  return 0;
}

static int holds(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct build_id_search *s = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD && ph->p_type != PT_DYNAMIC) continue;
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (s->address >= start && s->address - start < ph->p_memsz) {
      s->length = note_build_id(info, s);
      return 1;
    }
  }
  return 0;
}

int host_build_id(const void *address, unsigned char *out, int capacity) {
  struct build_id_search s = {(uintptr_t)address, out, capacity, -1};
  dl_iterate_phdr(holds, &s);
  return s.length;
}

int host_build_id_of_handle(void *handle, unsigned char *out, int capacity, char *path,
                            int path_capacity) {
  struct link_map *map = NULL;
  if (path_capacity > 0) path[0] = 0;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) return -1;
  if (map->l_name != NULL && path_capacity > 0) {
    strncpy(path, map->l_name, (size_t)path_capacity - 1);
    path[path_capacity - 1] = 0;
  }
  /* The object's dynamic section lies in one of its segments. */
  return host_build_id((const void *)map->l_ld, out, capacity);
}
