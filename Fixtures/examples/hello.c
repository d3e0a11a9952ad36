/* lkmrun's first example: globals, a static table, a qsort callback into the module, stdio. */
#include <stdio.h>
#include <stdlib.h>

int counter = 5;
static const char *names[] = {"zero", "one", "two"};

static int ascending(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

int main(int argc, char **argv) {
  int v[] = {3, 1, 2};
  qsort(v, 3, sizeof v[0], ascending);
  printf("hello from a module: sorted %d %d %d, %s, %d arguments\n", v[0], v[1], v[2],
         names[counter - 4], argc - 1);
  for (int i = 1; i < argc; i++) printf("  argv[%d] = %s\n", i, argv[i]);
  return 0;
}
