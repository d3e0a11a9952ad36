#include <stdio.h>
static int impl(int x) { return x * 7; }
static void *resolve_f(void) { return (void *)impl; }
int f(int) __attribute__((ifunc("resolve_f")));
typedef int (*fp)(int);
fp addr1(void) { return f; }
fp table1[] = { f };
extern fp addr2(void);
extern fp table2[];
int main(void) {
  fp a = addr1(), b = addr2();
  printf("equal %d %d %d %d\n", a == b, a == table1[0], b == table2[0], table1[0] == table2[0]);
  printf("calls %d %d %d\n", a(1), b(2), f(3));
  return 0;
}
