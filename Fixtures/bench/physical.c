/* The physical limit of a module load, measured: what any loader of the same image must do at
   least. For an image of SIZE bytes with FIXUPS relocations: map it (mmap, populated), copy
   SIZE bytes of section contents into it, write FIXUPS 4-byte fields spread over it (a load,
   an add, a store each, as a PC-relative fixup costs), protect two of its three segments and
   unmap it. Prints one JSON object: the median of each step and of the whole, in nanoseconds.

   usage: physical SIZE FIXUPS [ITERATIONS]

   The fresh memory of a process's first link: with --fresh, in this process (run it as a new
   one), maps POPULATE pages with MAP_POPULATE (as the image is mapped) and TOUCH more pages
   written one by one (a page fault each, as a link's heap grows), once, and prints the time:
   what the pages a first link gets from the kernel cost before any of its work. A warm link
   reuses its pages; a first one cannot.

   usage: physical --fresh TOUCH POPULATE */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static uint64_t now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n) {
  qsort(v, n, sizeof *v, compare);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int fresh(long touch, long populate) {
  uint64_t t0 = now();
  if (populate > 0) {
    char *image = mmap(0, (size_t)populate * 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (image == MAP_FAILED) return 1;
  }
  if (touch > 0) {
    volatile char *heap = mmap(0, (size_t)touch * 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (heap == MAP_FAILED) return 1;
    for (long i = 0; i < touch; i++) heap[i * 4096] = 1;
  }
  uint64_t t1 = now();
  printf("{\"touch\":%ld,\"populate\":%ld,\"fresh_ns\":%llu}\n", touch, populate,
         (unsigned long long)(t1 - t0));
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--fresh") == 0) {
    return fresh(strtol(argv[2], 0, 0), strtol(argv[3], 0, 0));
  }
  if (argc < 3) {
    fprintf(stderr, "usage: physical SIZE FIXUPS [ITERATIONS]\n       physical --fresh TOUCH POPULATE\n");
    return 2;
  }
  size_t size = (strtoull(argv[1], 0, 0) + 4095) & ~(size_t)4095;
  long fixups = strtol(argv[2], 0, 0);
  int n = argc > 3 ? atoi(argv[3]) : 200;
  char *source = malloc(size);
  memset(source, 0x90, size);
  uint32_t *offsets = malloc(sizeof *offsets * fixups);
  uint64_t seed = 88172645463325252u;
  for (long i = 0; i < fixups; i++) {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    offsets[i] = (uint32_t)(seed % (size - 8));
  }
  uint64_t *map = malloc(8 * n), *copy = malloc(8 * n), *fix = malloc(8 * n),
           *protect = malloc(8 * n), *unmap = malloc(8 * n), *total = malloc(8 * n);
  for (int k = -5; k < n; k++) {
    uint64_t t0 = now();
    char *image = mmap(0, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (image == MAP_FAILED) return 1;
    uint64_t t1 = now();
    memcpy(image, source, size);
    uint64_t t2 = now();
    for (long i = 0; i < fixups; i++) {
      int32_t v;
      memcpy(&v, image + offsets[i], 4);
      v += (int32_t)(offsets[i] ^ 0x5a5a);
      memcpy(image + offsets[i], &v, 4);
    }
    uint64_t t3 = now();
    size_t third = size / 3 & ~(size_t)4095;
    mprotect(image, third, PROT_READ | PROT_EXEC);
    mprotect(image + third, third, PROT_READ);
    uint64_t t4 = now();
    munmap(image, size);
    uint64_t t5 = now();
    if (k < 0) continue;
    map[k] = t1 - t0, copy[k] = t2 - t1, fix[k] = t3 - t2, protect[k] = t4 - t3,
    unmap[k] = t5 - t4, total[k] = t4 - t0;
  }
  printf("{\"size\":%zu,\"fixups\":%ld,\"map_ns\":%llu,\"copy_ns\":%llu,\"fixups_ns\":%llu,"
         "\"protect_ns\":%llu,\"unmap_ns\":%llu,\"load_ns\":%llu}\n",
         size, fixups, (unsigned long long)median(map, n), (unsigned long long)median(copy, n),
         (unsigned long long)median(fix, n), (unsigned long long)median(protect, n),
         (unsigned long long)median(unmap, n), (unsigned long long)median(total, n));
  return 0;
}
