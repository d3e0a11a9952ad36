/* Compiled with -fdirect-access-external-data: direct (PC-relative) references to the C
 * library's data, so that ld copies each object into lkmrun (a non-PIE executable) and binds
 * the library to the copy. dlsym(RTLD_DEFAULT, name) then returns the copy, within reach of
 * modules mapped low. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "lkmrun_host.h"

extern char **environ;

void *volatile lkmrun_host_sink;

/* A PC-relative reference written in assembly, so that it stays direct whatever -fPIC the
 * build adds: ld answers it with a copy relocation. */
#define REFERENCE(symbol)                                                  \
  do {                                                                     \
    void *p;                                                               \
    __asm__ volatile("leaq " #symbol "(%%rip), %0" : "=r"(p));             \
    lkmrun_host_sink = p;                                                  \
  } while (0)

int lkmrun_host_data_count(void) {
  REFERENCE(stdin);
  REFERENCE(stdout);
  REFERENCE(stderr);
  REFERENCE(environ);
  REFERENCE(optarg);
  REFERENCE(optind);
  REFERENCE(opterr);
  REFERENCE(optopt);
  REFERENCE(timezone);
  REFERENCE(daylight);
  REFERENCE(tzname);
  REFERENCE(program_invocation_name);
  REFERENCE(program_invocation_short_name);
  return 13;
}

/* The static TLS reservation modules' thread-local variables are given: part of lkmrun's own TLS
 * block, so at the same offset from the thread pointer in every thread, and initialized data
 * (.tdata, not .tbss), so that its initialization image is in lkmrun's file where the linker
 * writes each module's .tdata for the threads created after the load. */
__thread unsigned char lkmrun_tls_reserve[LKMRUN_TLS_RESERVE]
    __attribute__((aligned(LKMRUN_TLS_ALIGNMENT), tls_model("initial-exec"))) = {1};

void *lkmrun_tls_reserve_address(void) { return lkmrun_tls_reserve; }
