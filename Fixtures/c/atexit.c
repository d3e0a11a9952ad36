/* atexit: handlers the module registers run at exit, after main returns, in reverse order of
   registration (glibc defines atexit in libc_nonshared.a, not in libc.so.6). */
#include <stdio.h>
#include <stdlib.h>

static int registered;

static void first(void) { printf("first handler, registered %d\n", registered); }
static void second(void) { puts("second handler"); }

int main(void) {
  registered += atexit(first) == 0;
  registered += atexit(second) == 0;
  printf("main registered %d\n", registered);
  return 0;
}
