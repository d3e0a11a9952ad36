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

void *_Nullable volatile lkmrun_host_sink;

int lkmrun_host_data_count(void) {
  LKMRUN_REFERENCE(stdin);
  LKMRUN_REFERENCE(stdout);
  LKMRUN_REFERENCE(stderr);
  LKMRUN_REFERENCE(environ);
  LKMRUN_REFERENCE(optarg);
  LKMRUN_REFERENCE(optind);
  LKMRUN_REFERENCE(opterr);
  LKMRUN_REFERENCE(optopt);
  LKMRUN_REFERENCE(timezone);
  LKMRUN_REFERENCE(daylight);
  LKMRUN_REFERENCE(tzname);
  LKMRUN_REFERENCE(program_invocation_name);
  LKMRUN_REFERENCE(program_invocation_short_name);
  /* libstdc++'s inline code reads it (shared_ptr, std::async): gcc 11's single-thread check. */
  LKMRUN_REFERENCE(__libc_single_threaded);
  return 14;
}

/* The static TLS reservation modules' thread-local variables are given: part of lkmrun's own TLS
 * block, so at the same offset from the thread pointer in every thread, and initialized data
 * (.tdata, not .tbss), so that its initialization image is in lkmrun's file where the linker
 * writes each module's .tdata for the threads created after the load. */
__thread unsigned char lkmrun_tls_reserve[LKMRUN_TLS_RESERVE]
    __attribute__((aligned(LKMRUN_TLS_ALIGNMENT), tls_model("initial-exec"))) = {1};

void *lkmrun_tls_reserve_address(void) { return lkmrun_tls_reserve; }
