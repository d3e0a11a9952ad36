/* The libtcc anchor for scripts/bench: an in-process host that links relocatable objects with
   libtcc (tcc_new, TCC_OUTPUT_MEMORY, tcc_add_file per object, tcc_relocate) over and over and
   prints the timings as one JSON line, timed with clock_gettime(CLOCK_MONOTONIC) as lkmbench is
   (plus the load's thread CPU time, CLOCK_THREAD_CPUTIME_ID, as "cpu").

   usage: tcchost [-n ITERATIONS] [-w WARMUP] [-r] FILE...
     -r  link once and run main (the output check), instead of timing
     -d  time dlopen("libsqlite3.so.0", RTLD_NOW) + dlclose instead (a cross-check of lkmbench)

   Build: gcc -O2 -o tcchost tcchost.c -ltcc -ldl -lm -lpthread */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libtcc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The thread's CPU time: less disturbed than the wall clock by competing processes. */
static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long max_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static long current_rss_kb(void) {
  long pages = 0, rss = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
    fclose(f);
  }
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void on_error(void *opaque, const char *message) {
  (void)opaque;
  fprintf(stderr, "tcchost: %s\n", message);
}

static int compare(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Median, minimum and nearest-rank 90th percentile of `n` samples (sorted in place). */
static void summary(const char *key, uint64_t *v, int n, int last) {
  qsort(v, n, sizeof *v, compare);
  uint64_t median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  int rank = (9 * n + 9) / 10 - 1;
  printf("\"%s_median_ns\":%llu,\"%s_min_ns\":%llu,\"%s_p90_ns\":%llu%s", key,
         (unsigned long long)median, key, (unsigned long long)v[0], key,
         (unsigned long long)v[rank < 0 ? 0 : rank], last ? "" : ",");
}

/* One link: returns the state (with main resolved) or NULL. */
static TCCState *link_once(char **files, int count) {
  TCCState *s = tcc_new();
  if (!s) return NULL;
  tcc_set_error_func(s, NULL, on_error);
  tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
  /* As `tcc -lm -ldl -lpthread ... -run`; libc is added by tcc itself. */
  if (tcc_add_library(s, "m") < 0 || tcc_add_library(s, "dl") < 0 ||
      tcc_add_library(s, "pthread") < 0)
    goto fail;
  for (int i = 0; i < count; i++)
    if (tcc_add_file(s, files[i]) < 0) goto fail;
  if (tcc_relocate(s, TCC_RELOCATE_AUTO) < 0) goto fail;
  if (!tcc_get_symbol(s, "main")) {
    fprintf(stderr, "tcchost: main is not defined\n");
    goto fail;
  }
  return s;
fail:
  tcc_delete(s);
  return NULL;
}

static void *dlopen_once(void) {
  void *h = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h || !dlsym(h, "sqlite3_libversion")) {
    fprintf(stderr, "tcchost: dlopen: %s\n", dlerror());
    exit(1);
  }
  return h;
}

int main(int argc, char **argv) {
  int iterations = 50, warmup = 5, run = 0, use_dlopen = 0, opt;
  while ((opt = getopt(argc, argv, "n:w:rd")) != -1) {
    switch (opt) {
    case 'n': iterations = atoi(optarg); break;
    case 'w': warmup = atoi(optarg); break;
    case 'r': run = 1; break;
    case 'd': use_dlopen = 1; break;
    default:
      fprintf(stderr, "usage: tcchost [-n ITERATIONS] [-w WARMUP] [-r | -d] FILE...\n");
      return 2;
    }
  }
  char **files = argv + optind;
  int count = argc - optind;
  if ((count == 0 && !use_dlopen) || iterations < 1) {
    fprintf(stderr, "usage: tcchost [-n ITERATIONS] [-w WARMUP] [-r | -d] FILE...\n");
    return 2;
  }

  if (run) {
    TCCState *s = link_once(files, count);
    if (!s) return 1;
    int (*entry)(int, char **) = (int (*)(int, char **))tcc_get_symbol(s, "main");
    char *args[] = {files[0], NULL};
    int status = entry(1, args);
    fflush(NULL);
    tcc_delete(s);
    return status;
  }

  uint64_t *load = calloc(iterations, sizeof *load), *unload = calloc(iterations, sizeof *unload);
  uint64_t *cpu = calloc(iterations, sizeof *cpu);
  long rss_start = current_rss_kb();
  for (int i = -warmup; i < iterations; i++) {
    uint64_t c0 = cpu_ns(), t0 = now_ns(), t1, t2, c1;
    if (use_dlopen) {
      void *h = dlopen_once();
      t1 = now_ns();
      c1 = cpu_ns();
      dlclose(h);
      t2 = now_ns();
      void *again = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_NOLOAD);
      if (again) {
        fprintf(stderr, "tcchost: libsqlite3.so.0 is still loaded after dlclose\n");
        return 1;
      }
    } else {
      TCCState *s = link_once(files, count);
      if (!s) return 1;
      t1 = now_ns();
      c1 = cpu_ns();
      tcc_delete(s);
      t2 = now_ns();
    }
    if (i >= 0) {
      load[i] = t1 - t0;
      unload[i] = t2 - t1;
      cpu[i] = c1 - c0;
    }
  }
  printf("{\"host\":\"%s\",\"iterations\":%d,\"warmup\":%d,\"files\":%d,", use_dlopen ? "dlopen-c" : "libtcc",
         iterations, warmup, count);
  summary("load", load, iterations, 0);
  summary("unload", unload, iterations, 0);
  summary("cpu", cpu, iterations, 0);
  printf("\"rss_start_kb\":%ld,\"max_rss_kb\":%ld}\n", rss_start, max_rss_kb());
  return 0;
}
