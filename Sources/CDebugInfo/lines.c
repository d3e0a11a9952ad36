/* Source lines from a module object's DWARF with libdwfl (see cdebuginfo.h).
 *
 * The object is a relocatable one whose allocated sections carry their load addresses. libdwfl
 * reports a copy of it offline from memory with those addresses cleared: it lays the sections
 * out its own way and relocates the DWARF (in the copy) against that layout; the address asked
 * about is taken as an offset into the section that holds it, and that section's address in
 * libdwfl's layout. (libdwfl 0.188 given the load addresses themselves keeps them with a bias,
 * but relocates nothing usable.) Separate debug files are never looked for (no file, no
 * network: the kernel process has neither).
 *
 * libdw is opened (dlopen) on first need, not linked: it and what it pulls in (liblzma,
 * libbz2) would be loaded and relocated at the start of every lkmrun, which needs a source
 * line only when its program crashes. */
#define _GNU_SOURCE
#include "cdebuginfo.h"

#include <dlfcn.h>
#include <elf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The libdwfl functions used, from libdw.so.1 once loaded; all null if it cannot be. */
static struct {
  __typeof__(dwfl_begin) *begin;
  __typeof__(dwfl_report_offline_memory) *report_offline_memory;
  __typeof__(dwfl_report_end) *report_end;
  __typeof__(dwfl_module_getelf) *module_getelf;
  __typeof__(dwfl_module_getsrc) *module_getsrc;
  __typeof__(dwfl_lineinfo) *lineinfo;
  __typeof__(dwfl_end) *end;
  __typeof__(dwfl_offline_section_address) *offline_section_address;
} dw;
static pthread_once_t dw_once = PTHREAD_ONCE_INIT;

static void dw_open(void) {
  void *h = dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) return;
  __typeof__(dw) f;
  f.begin = (__typeof__(f.begin))dlsym(h, "dwfl_begin");
  f.report_offline_memory = (__typeof__(f.report_offline_memory))dlsym(h, "dwfl_report_offline_memory");
  f.report_end = (__typeof__(f.report_end))dlsym(h, "dwfl_report_end");
  f.module_getelf = (__typeof__(f.module_getelf))dlsym(h, "dwfl_module_getelf");
  f.module_getsrc = (__typeof__(f.module_getsrc))dlsym(h, "dwfl_module_getsrc");
  f.lineinfo = (__typeof__(f.lineinfo))dlsym(h, "dwfl_lineinfo");
  f.end = (__typeof__(f.end))dlsym(h, "dwfl_end");
  f.offline_section_address = (__typeof__(f.offline_section_address))dlsym(h, "dwfl_offline_section_address");
  if (f.begin == NULL || f.report_offline_memory == NULL || f.report_end == NULL ||
      f.module_getelf == NULL || f.module_getsrc == NULL || f.lineinfo == NULL || f.end == NULL ||
      f.offline_section_address == NULL) {
    dlclose(h);
    return;
  }
  dw = f;
}

int cdi_load_line_reader(void) {
  pthread_once(&dw_once, dw_open);
  return dw.begin != NULL ? 0 : -1;
}

static uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static uint32_t load32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint16_t load16(const unsigned char *p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}

/* The section header table of a 64-bit little-endian ELF, checked against the size. */
static int section_table(const unsigned char *b, uint64_t size, uint64_t *shoff, uint16_t *shnum) {
  if (size < sizeof(Elf64_Ehdr) || memcmp(b, ELFMAG, SELFMAG) != 0 || b[EI_CLASS] != ELFCLASS64 ||
      b[EI_DATA] != ELFDATA2LSB)
    return -1;
  uint64_t off = load64(b + offsetof(Elf64_Ehdr, e_shoff));
  uint16_t n = load16(b + offsetof(Elf64_Ehdr, e_shnum));
  uint16_t entsize = load16(b + offsetof(Elf64_Ehdr, e_shentsize));
  if (n == 0 || entsize != sizeof(Elf64_Shdr) || off > size ||
      (uint64_t)n * sizeof(Elf64_Shdr) > size - off)
    return -1;
  *shoff = off;
  *shnum = n;
  return 0;
}

static const char *section_name(const unsigned char *b, uint64_t size, uint64_t shoff,
                                uint16_t shnum, const unsigned char *sh) {
  uint16_t strndx = load16(b + offsetof(Elf64_Ehdr, e_shstrndx));
  if (strndx == 0 || strndx >= shnum) return NULL;
  const unsigned char *str = b + shoff + (uint64_t)strndx * sizeof(Elf64_Shdr);
  uint64_t off = load64(str + offsetof(Elf64_Shdr, sh_offset));
  uint64_t len = load64(str + offsetof(Elf64_Shdr, sh_size));
  uint32_t name = load32(sh + offsetof(Elf64_Shdr, sh_name));
  if (off > size || len > size - off || name >= len) return NULL;
  const char *s = (const char *)b + off + name;
  if (memchr(s, 0, len - name) == NULL) return NULL;
  return s;
}

int cdi_has_line_info(const void *object, uint64_t size) {
  const unsigned char *b = object;
  uint64_t shoff;
  uint16_t shnum;
  if (section_table(b, size, &shoff, &shnum) != 0) return -1;
  for (uint16_t i = 1; i < shnum; i++) {
    const char *name = section_name(b, size, shoff, shnum, b + shoff + (uint64_t)i * sizeof(Elf64_Shdr));
    if (name != NULL && strcmp(name, ".debug_line") == 0) return 1;
  }
  return 0;
}

static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                        const char *file_name, const char *debuglink_file,
                        GElf_Word debuglink_crc, char **debuginfo_file_name) {
  (void)mod, (void)userdata, (void)modname, (void)base, (void)file_name, (void)debuglink_file;
  (void)debuglink_crc, (void)debuginfo_file_name;
  return -1;
}


int cdi_source_line(const void *object, uint64_t size, uint64_t address, char *file,
                    size_t file_size, int *line) {
  if (file_size == 0) return 0;
  file[0] = 0;
  *line = 0;
  if (cdi_load_line_reader() != 0) return 0;
  const Dwfl_Callbacks callbacks = {
      .find_elf = NULL,
      .find_debuginfo = no_debuginfo,
      .section_address = dw.offline_section_address,
      .debuginfo_path = NULL,
  };
  uint64_t shoff;
  uint16_t shnum;
  if (section_table(object, size, &shoff, &shnum) != 0) return 0;
  /* Only objects that have lines and a section holding the address. */
  if (cdi_has_line_info(object, size) != 1) return 0;
  unsigned char *copy = malloc((size_t)size);
  if (copy == NULL) return 0;
  memcpy(copy, object, (size_t)size);
  /* libdwfl lays the sections out itself (its own addresses, written into its headers): the
   * copy goes to it with every sh_addr 0, and the address is taken relative to its section. */
  uint16_t section = 0;
  uint64_t offset = 0;
  for (uint16_t i = 1; i < shnum; i++) {
    unsigned char *sh = copy + shoff + (uint64_t)i * sizeof(Elf64_Shdr);
    uint64_t flags = load64(sh + offsetof(Elf64_Shdr, sh_flags));
    uint64_t addr = load64(sh + offsetof(Elf64_Shdr, sh_addr));
    uint64_t len = load64(sh + offsetof(Elf64_Shdr, sh_size));
    uint64_t zero = 0;
    memcpy(sh + offsetof(Elf64_Shdr, sh_addr), &zero, 8);
    if (!(flags & SHF_ALLOC) || addr == 0) continue;
    if (section == 0 && address >= addr && address - addr < len) {
      section = i;
      offset = address - addr;
    }
  }
  int found = 0;
  if (section != 0) {
    Dwfl *dwfl = dw.begin(&callbacks);
    if (dwfl != NULL) {
      Dwfl_Module *mod = dw.report_offline_memory(dwfl, "module", "module", (char *)copy, (size_t)size);
      Dwarf_Addr bias = 0;
      Elf *elf = mod != NULL && dw.report_end(dwfl, NULL, NULL) == 0 ? dw.module_getelf(mod, &bias) : NULL;
      Elf_Scn *scn = elf != NULL ? elf_getscn(elf, section) : NULL;
      GElf_Shdr shdr_mem;
      GElf_Shdr *shdr = scn != NULL ? gelf_getshdr(scn, &shdr_mem) : NULL;
      Dwfl_Line *l = shdr != NULL ? dw.module_getsrc(mod, shdr->sh_addr + offset + bias) : NULL;
      int lineno = 0;
      const char *path = l != NULL ? dw.lineinfo(l, NULL, &lineno, NULL, NULL, NULL) : NULL;
      if (path != NULL && lineno > 0) {
        const char *base = strrchr(path, '/');
        base = base != NULL ? base + 1 : path;
        size_t n = strlen(base);
        if (n >= file_size) n = file_size - 1;
        memcpy(file, base, n);
        file[n] = 0;
        *line = lineno;
        found = 1;
      }
      dw.end(dwfl);
    }
  }
  free(copy);
  return found;
}
