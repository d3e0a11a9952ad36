#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
int lookup(int);
int old_lookup(int);
__asm__(".symver old_lookup, lookup@VERS_1");
char *my_realpath(const char *, char *);
__asm__(".symver my_realpath, realpath@GLIBC_2.2.5");
int main(void) {
  char buf[PATH_MAX];
  printf("lookup %d old %d\n", lookup(10), old_lookup(10));
  printf("realpath %s\n", my_realpath("/usr/../usr/bin", buf) ? buf : "(null)");
  return 0;
}
