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

static int lkmrun_host_cxx_data_count(void);

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
  /* libstdc++'s inline code reads it (shared_ptr, std::async): gcc 11's single-thread check. */
  REFERENCE(__libc_single_threaded);
  return 14 + lkmrun_host_cxx_data_count();
}

/* libstdc++'s writable data objects (the iostreams, the locale facets' ids, the atoms num_get
 * and money_get read): a default-PIE C++ program names them PC-relatively beside stdout, so
 * they must be where lkmrun's copy of stdout is (nm -D --defined-only libstdc++.so.6, types B,
 * D and u, without guard variables and thread-local ones). */
static int lkmrun_host_cxx_data_count(void) {
  REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4_Rep11_S_max_sizeE);
  REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4_Rep11_S_terminalE);
  REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4_Rep20_S_empty_rep_storageE);
  REFERENCE(_ZNSbIwSt11char_traitsIwESaIwEE4nposE);
  REFERENCE(_ZNSs4_Rep11_S_max_sizeE);
  REFERENCE(_ZNSs4_Rep11_S_terminalE);
  REFERENCE(_ZNSs4_Rep20_S_empty_rep_storageE);
  REFERENCE(_ZNSs4nposE);
  REFERENCE(_ZNSt10__num_base11_S_atoms_inE);
  REFERENCE(_ZNSt10__num_base12_S_atoms_outE);
  REFERENCE(_ZNSt10money_base8_S_atomsE);
  REFERENCE(_ZNSt10moneypunctIcLb0EE2idE);
  REFERENCE(_ZNSt10moneypunctIcLb0EE4intlE);
  REFERENCE(_ZNSt10moneypunctIcLb1EE2idE);
  REFERENCE(_ZNSt10moneypunctIcLb1EE4intlE);
  REFERENCE(_ZNSt10moneypunctIwLb0EE2idE);
  REFERENCE(_ZNSt10moneypunctIwLb0EE4intlE);
  REFERENCE(_ZNSt10moneypunctIwLb1EE2idE);
  REFERENCE(_ZNSt10moneypunctIwLb1EE4intlE);
  REFERENCE(_ZNSt11__timepunctIcE2idE);
  REFERENCE(_ZNSt11__timepunctIwE2idE);
  REFERENCE(_ZNSt17__timepunct_cacheIcE12_S_timezonesE);
  REFERENCE(_ZNSt17__timepunct_cacheIwE12_S_timezonesE);
  REFERENCE(_ZNSt17moneypunct_bynameIcLb0EE4intlE);
  REFERENCE(_ZNSt17moneypunct_bynameIcLb1EE4intlE);
  REFERENCE(_ZNSt17moneypunct_bynameIwLb0EE4intlE);
  REFERENCE(_ZNSt17moneypunct_bynameIwLb1EE4intlE);
  REFERENCE(_ZNSt5ctypeIcE2idE);
  REFERENCE(_ZNSt5ctypeIwE2idE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIcLb0EE2idE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIcLb0EE4intlE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIcLb1EE2idE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIcLb1EE4intlE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIwLb0EE2idE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIwLb0EE4intlE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIwLb1EE2idE);
  REFERENCE(_ZNSt7__cxx1110moneypunctIwLb1EE4intlE);
  REFERENCE(_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE4nposE);
  REFERENCE(_ZNSt7__cxx1112basic_stringIwSt11char_traitsIwESaIwEE4nposE);
  REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIcLb0EE4intlE);
  REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIcLb1EE4intlE);
  REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIwLb0EE4intlE);
  REFERENCE(_ZNSt7__cxx1117moneypunct_bynameIwLb1EE4intlE);
  REFERENCE(_ZNSt7__cxx117collateIcE2idE);
  REFERENCE(_ZNSt7__cxx117collateIwE2idE);
  REFERENCE(_ZNSt7__cxx118messagesIcE2idE);
  REFERENCE(_ZNSt7__cxx118messagesIwE2idE);
  REFERENCE(_ZNSt7__cxx118numpunctIcE2idE);
  REFERENCE(_ZNSt7__cxx118numpunctIwE2idE);
  REFERENCE(_ZNSt7__cxx118time_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt7__cxx118time_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt7__cxx119money_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt7__cxx119money_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt7__cxx119money_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt7__cxx119money_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt7codecvtIDiDu11__mbstate_tE2idE);
  REFERENCE(_ZNSt7codecvtIDic11__mbstate_tE2idE);
  REFERENCE(_ZNSt7codecvtIDsDu11__mbstate_tE2idE);
  REFERENCE(_ZNSt7codecvtIDsc11__mbstate_tE2idE);
  REFERENCE(_ZNSt7codecvtIcc11__mbstate_tE2idE);
  REFERENCE(_ZNSt7codecvtIwc11__mbstate_tE2idE);
  REFERENCE(_ZNSt7collateIcE2idE);
  REFERENCE(_ZNSt7collateIwE2idE);
  REFERENCE(_ZNSt7num_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt7num_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt7num_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt7num_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt8messagesIcE2idE);
  REFERENCE(_ZNSt8messagesIwE2idE);
  REFERENCE(_ZNSt8numpunctIcE2idE);
  REFERENCE(_ZNSt8numpunctIwE2idE);
  REFERENCE(_ZNSt8time_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt8time_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt8time_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt8time_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt9money_getIcSt19istreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt9money_getIwSt19istreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZNSt9money_putIcSt19ostreambuf_iteratorIcSt11char_traitsIcEEE2idE);
  REFERENCE(_ZNSt9money_putIwSt19ostreambuf_iteratorIwSt11char_traitsIwEEE2idE);
  REFERENCE(_ZSt10adopt_lock);
  REFERENCE(_ZSt10defer_lock);
  REFERENCE(_ZSt11try_to_lock);
  REFERENCE(_ZSt15future_category);
  REFERENCE(_ZSt3cin);
  REFERENCE(_ZSt4cerr);
  REFERENCE(_ZSt4clog);
  REFERENCE(_ZSt4cout);
  REFERENCE(_ZSt4wcin);
  REFERENCE(_ZSt5wcerr);
  REFERENCE(_ZSt5wclog);
  REFERENCE(_ZSt5wcout);
  return 91;
}

/* The static TLS reservation modules' thread-local variables are given: part of lkmrun's own TLS
 * block, so at the same offset from the thread pointer in every thread, and initialized data
 * (.tdata, not .tbss), so that its initialization image is in lkmrun's file where the linker
 * writes each module's .tdata for the threads created after the load. */
__thread unsigned char lkmrun_tls_reserve[LKMRUN_TLS_RESERVE]
    __attribute__((aligned(LKMRUN_TLS_ALIGNMENT), tls_model("initial-exec"))) = {1};

void *lkmrun_tls_reserve_address(void) { return lkmrun_tls_reserve; }
