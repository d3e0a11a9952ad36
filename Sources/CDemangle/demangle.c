#define _GNU_SOURCE
#include <dlfcn.h>
#include "cdemangle.h"

#include <stdlib.h>
#include <string.h>

/* libstdc++'s (the Swift runtime links it on Linux). */
char *__cxa_demangle(const char *mangled, char *buf, size_t *length, int *status);

int cdemangle(const char *name, char *buf, size_t size) {
  int status = 0;
  char *text = __cxa_demangle(name, NULL, NULL, &status);
  if (status != 0 || text == NULL) return -1;
  size_t n = strlen(text);
  int fits = n < size;
  if (fits) memcpy(buf, text, n + 1);
  free(text);
  return fits ? 0 : -1;
}


int cdemangle_is_libc_function(const char *name) {
  void *address = dlsym(RTLD_DEFAULT, name);
  Dl_info info;
  if (address == NULL || dladdr(address, &info) == 0 || info.dli_fname == NULL) return 0;
  return strstr(info.dli_fname, "/libc.so") != NULL || strstr(info.dli_fname, "/libm.so") != NULL;
}
