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

/* One loaded object, as host_symbol_facts reads it. */
struct object_view {
  uintptr_t address;
  const char *name;
  int found;
  uintptr_t base;
  int writable, executable;
  const ElfW(Sym) *symtab;
  const char *strtab;
  const uint32_t *gnu_hash;
  const ElfW(Half) *versym;
  const ElfW(Phdr) *phdr;
  int phnum;
};

/* The permissions of the segment of `v`'s object holding `address`, from its program headers. */
static int permissions(const struct object_view *v, uintptr_t address, int *writable,
                       int *executable) {
  const ElfW(Phdr) *segment = NULL, *relro = NULL;
  for (int i = 0; i < v->phnum; i++) {
    const ElfW(Phdr) *ph = &v->phdr[i];
    uintptr_t start = v->base + ph->p_vaddr;
    int inside = address >= start && address - start < ph->p_memsz;
    if (ph->p_type == PT_LOAD && inside) segment = ph;
    if (ph->p_type == PT_GNU_RELRO && inside) relro = ph;
  }
  if (segment == NULL) return 0;
  *executable = (segment->p_flags & PF_X) != 0;
  *writable = (segment->p_flags & PF_W) != 0 && relro == NULL;
  return 1;
}

/* A dynamic-section pointer: ld.so rewrites most to addresses when it relocates an object; one it
 * left as an offset (below the object's base) is made an address. */
static uintptr_t dynamic_pointer(uintptr_t value, uintptr_t base) {
  return value < base ? value + base : value;
}

static int view_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct object_view *v = data;
  const ElfW(Phdr) *segment = NULL;
  const ElfW(Phdr) *dynamic = NULL;
  const ElfW(Phdr) *relro = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD) {
      uintptr_t start = info->dlpi_addr + ph->p_vaddr;
      if (v->address >= start && v->address - start < ph->p_memsz) segment = ph;
    } else if (ph->p_type == PT_DYNAMIC) {
      dynamic = ph;
    } else if (ph->p_type == PT_GNU_RELRO) {
      relro = ph;
    }
  }
  if (segment == NULL) return 0;
  v->found = 1;
  v->base = info->dlpi_addr;
  v->phdr = info->dlpi_phdr;
  v->phnum = info->dlpi_phnum;
  v->executable = (segment->p_flags & PF_X) != 0;
  v->writable = (segment->p_flags & PF_W) != 0;
  if (relro != NULL) {
    uintptr_t start = info->dlpi_addr + relro->p_vaddr;
    if (v->address >= start && v->address - start < relro->p_memsz) v->writable = 0;
  }
  if (dynamic == NULL || v->name == NULL) return 1;
  for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + dynamic->p_vaddr);
       d->d_tag != DT_NULL; d++) {
    switch (d->d_tag) {
    case DT_SYMTAB: v->symtab = (const ElfW(Sym) *)dynamic_pointer(d->d_un.d_ptr, v->base); break;
    case DT_STRTAB: v->strtab = (const char *)dynamic_pointer(d->d_un.d_ptr, v->base); break;
    case DT_GNU_HASH:
      v->gnu_hash = (const uint32_t *)dynamic_pointer(d->d_un.d_ptr, v->base);
      break;
    case DT_VERSYM: v->versym = (const ElfW(Half) *)dynamic_pointer(d->d_un.d_ptr, v->base); break;
    default: break;
    }
  }
  return 1;
}

int host_segment_permissions(const void *address, int *writable, int *executable) {
  struct object_view v = {0};
  v.address = (uintptr_t)address;
  dl_iterate_phdr(view_object, &v);
  if (!v.found) return 0;
  *writable = v.writable;
  *executable = v.executable;
  return 1;
}

/* The object the last lookup of this thread found, and its loaded segments' range: most
 * lookups of a link are in the same library (libc), found without walking every object. */
static __thread struct object_view last_view;
static __thread uintptr_t last_start, last_end;

static int view_object_cached(struct dl_phdr_info *info, size_t size, void *data) {
  int found = view_object(info, size, data);
  if (found) {
    struct object_view *v = data;
    uintptr_t start = UINTPTR_MAX, end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
      const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
      if (ph->p_type != PT_LOAD) continue;
      uintptr_t s = info->dlpi_addr + ph->p_vaddr;
      if (s < start) start = s;
      if (s + ph->p_memsz > end) end = s + ph->p_memsz;
    }
    last_view = *v;
    last_start = start;
    last_end = end;
  }
  return found;
}

int host_symbol_facts(const void *address, const char *name, unsigned long *size, int *type,
                      int *writable, int *executable) {
  struct object_view v = {0};
  v.address = (uintptr_t)address;
  v.name = name;
  /* A library is never unloaded while its symbols are in use: the cached view holds while the
   * address is in its range; the segment's permissions are looked up again. */
  if (last_view.found && v.address >= last_start && v.address < last_end &&
      permissions(&last_view, v.address, &v.writable, &v.executable)) {
    struct object_view known = last_view;
    known.address = v.address;
    known.name = name;
    known.writable = v.writable;
    known.executable = v.executable;
    v = known;
  } else {
    dl_iterate_phdr(view_object_cached, &v);
  }
  if (!v.found || v.symtab == NULL || v.strtab == NULL || v.gnu_hash == NULL) return 0;
  /* The GNU hash table: buckets, a Bloom filter, and chains of hashes (low bit: last). */
  uint32_t h = 5381;
  for (const unsigned char *c = (const unsigned char *)name; *c; c++) h = h * 33 + *c;
  const uint32_t buckets = v.gnu_hash[0], offset = v.gnu_hash[1];
  const uint32_t bloom_size = v.gnu_hash[2], bloom_shift = v.gnu_hash[3];
  if (buckets == 0 || bloom_size == 0) return 0;
  const ElfW(Addr) *bloom = (const ElfW(Addr) *)&v.gnu_hash[4];
  const unsigned bits = sizeof(ElfW(Addr)) * 8;
  ElfW(Addr) word = bloom[(h / bits) % bloom_size];
  ElfW(Addr) mask = ((ElfW(Addr))1 << (h % bits)) | ((ElfW(Addr))1 << ((h >> bloom_shift) % bits));
  if ((word & mask) != mask) return 0;
  const uint32_t *bucket = (const uint32_t *)&bloom[bloom_size];
  const uint32_t *chain = &bucket[buckets];
  uint32_t i = bucket[h % buckets];
  if (i < offset) return 0;
  for (;; i++) {
    uint32_t hash = chain[i - offset];
    const ElfW(Sym) *sym = &v.symtab[i];
    if ((hash | 1) == (h | 1) && sym->st_shndx != SHN_UNDEF &&
        strcmp(name, v.strtab + sym->st_name) == 0 &&
        (v.versym == NULL || (v.versym[i] & 0x8000) == 0)) {
      int t = ELF64_ST_TYPE(sym->st_info);
      /* The symbol at the address (an IFUNC's resolved function is elsewhere). */
      if (t == STT_GNU_IFUNC || v.base + sym->st_value == (uintptr_t)address) {
        *size = sym->st_size;
        *type = t;
        *writable = v.writable;
        *executable = v.executable;
        return 1;
      }
    }
    if (hash & 1) break;
  }
  return 0;
}

void *host_versioned_symbol(void *handle, const char *name, const char *version) {
  return dlvsym(handle == NULL ? RTLD_DEFAULT : handle, name, version);
}
