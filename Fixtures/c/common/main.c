/* cflags: -fcommon */
/* COMMON symbols: a tentative definition in two objects (one array), one with different sizes
   (the larger wins), and one that a real definition in another object overrides. */
#include <stdio.h>

int shared_common[100];
extern char sized_common[];
extern int defined_common;
void fill_a(void);
void fill_b(void);
long sum_b(void);
unsigned long sized_sum(void);

int main(void) {
  long before = 0;
  for (int i = 0; i < 100; i++) before += shared_common[i];
  fill_a();
  fill_b();
  long mine = 0;
  for (int i = 0; i < 100; i++) mine += shared_common[i];
  printf("before %ld after %ld b %ld\n", before, mine, sum_b());
  printf("sized %lu defined %d\n", sized_sum(), defined_common);
  defined_common++;
  printf("defined %d\n", defined_common);
  return 0;
}
