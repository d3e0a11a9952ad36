/* A 64 MiB zero-filled static array (and a 16 MiB global one) touched sparsely: .bss placement,
   zero fill and reserve without writing every page. */
#include <stdio.h>

#define MIB (1024 * 1024)
static char big[64 * MIB];
int wide[4 * MIB];
static int after_big = 5;

int main(void) {
  long zeros = 0;
  for (long i = 0; i < (long)sizeof big; i += MIB) zeros += big[i] == 0;
  for (long i = 0; i < (long)sizeof big; i += 4 * MIB) big[i] = (char)(i / MIB);
  big[sizeof big - 1] = 99;
  long sum = 0;
  for (long i = 0; i < (long)sizeof big; i += 4 * MIB) sum += big[i];
  wide[0] = 1;
  wide[4 * MIB - 1] = 2;
  printf("zeros %ld sum %ld last %d\n", zeros, sum, big[sizeof big - 1]);
  printf("wide %d %d %d after %d\n", wide[0], wide[MIB], wide[4 * MIB - 1], after_big);
  printf("sizes %zu %zu\n", sizeof big, sizeof wide);
  return 0;
}
