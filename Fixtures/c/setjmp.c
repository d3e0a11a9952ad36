/* setjmp/longjmp out of nested module frames, longjmp with 0 (arrives as 1), sigsetjmp and
   siglongjmp, and a longjmp out of a comparator called by qsort in the host. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf recover;
static sigjmp_buf signal_recover;
static int depth;

__attribute__((noinline)) static void descend(int n, int value) {
  depth++;
  if (n == 0) longjmp(recover, value);
  descend(n - 1, value);
  depth += 100; /* never reached */
}

__attribute__((noinline)) static int compare_and_bail(const void *a, const void *b) {
  (void)a;
  (void)b;
  siglongjmp(signal_recover, 9);
}

int main(void) {
  volatile int rounds = 0;
  int value = setjmp(recover);
  printf("setjmp returned %d depth %d\n", value, depth);
  if (rounds++ < 3) descend(5, rounds == 3 ? 0 : rounds * 10);
  int values[] = {3, 2, 1};
  int got = sigsetjmp(signal_recover, 1);
  if (got == 0) {
    qsort(values, 3, sizeof values[0], compare_and_bail);
    puts("not reached");
  }
  printf("sigsetjmp returned %d rounds %d\n", got, rounds);
  return 0;
}
