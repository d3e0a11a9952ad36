/* status: 9 */
/* exit() called deep in the module: the status reaches the process, buffered output is flushed,
   and the module's destructor still runs (as GCC documents: after main returns or exit is called). */
#include <stdio.h>
#include <stdlib.h>

__attribute__((destructor)) static void finish(void) { puts("destructor"); }

__attribute__((noinline)) static void leave(int status) {
  printf("leaving with %d\n", status);
  exit(status);
}

int main(void) {
  fputs("buffered ", stdout);
  leave(9);
  puts("not reached");
  return 0;
}
