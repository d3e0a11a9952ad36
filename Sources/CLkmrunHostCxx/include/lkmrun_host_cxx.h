#ifndef LKMRUN_HOST_CXX_H
#define LKMRUN_HOST_CXX_H
/* Keeps lkmrun-cxx's references to libstdc++'s writable data objects, so that the link gives
 * lkmrun-cxx copies of them (copy relocations) beside its copies of the C library's (see
 * lkmrun_host.h): libstdc++.so.6 is bound to the copies, and modules reach them. Returns how
 * many there are. */
int lkmrun_host_cxx_data_count(void);
#endif
