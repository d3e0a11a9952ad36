/* Thread-local storage for modules: the thread pointer, a __tls_get_addr and a TLS descriptor
 * resolver over offsets from the thread pointer, and writes into a static TLS reservation (its
 * initialization image, which ld.so copies into every new thread, and the calling thread's
 * block). Every module TLS block lives in such a reservation, at the same offset from the thread
 * pointer in every thread (x86-64's TLS variant II: static blocks lie below it). */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "host_symbols.h"

typedef struct {
  unsigned long module;
  unsigned long offset;
} tls_index;

/* glibc's, for an index that is not ours. */
extern void *__tls_get_addr(tls_index *index);

uintptr_t host_thread_pointer(void) {
  uintptr_t tp;
  __asm__("movq %%fs:0, %0" : "=r"(tp));
  return tp;
}

/* The module-facing __tls_get_addr: an index whose module is HOST_TLS_STATIC_MODULE holds an
 * offset from the thread pointer. The stack is realigned: old compilers called __tls_get_addr
 * with it misaligned (glibc does the same). */
__attribute__((force_align_arg_pointer)) static void *tls_get_addr(tls_index *index) {
  if (index->module == HOST_TLS_STATIC_MODULE) return (char *)host_thread_pointer() + index->offset;
  return __tls_get_addr(index);
}

/* The resolver of a static TLS descriptor {resolver, offset}: called with %rax = the descriptor,
 * returns the offset from the thread pointer in %rax and changes no other register. */
__asm__(".text\n"
        ".p2align 4\n"
        "host_tlsdesc_static:\n"
        "  .cfi_startproc\n"
        "  movq 8(%rax), %rax\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".type host_tlsdesc_static, @function\n"
        ".size host_tlsdesc_static, .-host_tlsdesc_static\n");
extern char host_tlsdesc_static[];

void host_tls_functions(uintptr_t *get_addr, uintptr_t *descriptor_resolver) {
  *get_addr = (uintptr_t)&tls_get_addr;
  *descriptor_resolver = (uintptr_t)host_tlsdesc_static;
}

struct loaded_search {
  uintptr_t address;
  int found;
};

static int holds_address(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct loaded_search *s = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && s->address >= start && s->address - start < ph->p_memsz) {
      s->found = 1;
      return 1;
    }
  }
  return 0;
}

int host_static_tls_offset(const void *address, long *offset) {
  struct loaded_search s = {(uintptr_t)address, 0};
  dl_iterate_phdr(holds_address, &s);
  uintptr_t tp = host_thread_pointer();
  if (s.found || s.address >= tp || tp - s.address > (1u << 20)) return 0;
  *offset = (long)(s.address - tp);
  return 1;
}

struct image_search {
  uintptr_t address;
  size_t size;
  char *image;
  uintptr_t base;
  const ElfW(Phdr) *phdr;
  int phnum;
};

static int find_image(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct image_search *s = data;
  if (info->dlpi_tls_data == NULL) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_TLS) continue;
    uintptr_t block = (uintptr_t)info->dlpi_tls_data;
    if (s->address < block || s->address - block >= ph->p_memsz) return 0;
    uintptr_t offset = s->address - block;
    if (offset + s->size > ph->p_filesz) return 0;
    s->image = (char *)(info->dlpi_addr + ph->p_vaddr + offset);
    s->base = info->dlpi_addr;
    s->phdr = info->dlpi_phdr;
    s->phnum = info->dlpi_phnum;
    return 1;
  }
  return 0;
}

int host_static_tls_write(long offset, const void *bytes, size_t size, size_t zeros) {
  char *here = (char *)host_thread_pointer() + offset;
  struct image_search s = {(uintptr_t)here, size + zeros, NULL, 0, NULL, 0};
  dl_iterate_phdr(find_image, &s);
  if (s.image == NULL) return -1;
  /* The image lies in a loaded segment (read-only after relocation when RELRO covers it):
   * writable for the copy, then as it was. */
  int prot = PROT_READ;
  for (int i = 0; i < s.phnum; i++) {
    const ElfW(Phdr) *ph = &s.phdr[i];
    uintptr_t start = s.base + ph->p_vaddr;
    if ((uintptr_t)s.image < start || (uintptr_t)s.image - start >= ph->p_memsz) continue;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) prot |= PROT_WRITE;
    if (ph->p_type == PT_GNU_RELRO) {
      prot = PROT_READ;
      break;
    }
  }
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t first = (uintptr_t)s.image & ~(uintptr_t)(page - 1);
  uintptr_t end = ((uintptr_t)s.image + size + zeros + page - 1) & ~(uintptr_t)(page - 1);
  if (mprotect((void *)first, end - first, PROT_READ | PROT_WRITE) != 0) return -1;
  if (size > 0) memcpy(s.image, bytes, size);
  memset(s.image + size, 0, zeros);
  mprotect((void *)first, end - first, prot);
  if (size > 0) memcpy(here, bytes, size);
  memset(here + size, 0, zeros);
  return 0;
}
