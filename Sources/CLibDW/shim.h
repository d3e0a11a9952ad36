#ifndef CLIBDW_SHIM_H
#define CLIBDW_SHIM_H
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#endif
