// oracle: default fPIC fno-pic sections large fno-plt
// Tables of pointers to code and data, a jump table, strings, an initialised function
// pointer, a constructor, a weak undefined function and calls into libc: no host data, so that
// -fno-pic objects (mapped low, calling libc through stubs) link too.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct op {
  const char *name;
  int (*apply)(int, int);
};

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }

static const struct op ops[] = {{"add", add}, {"sub", sub}, {"mul", mul}};
static const char *const words[] = {"zero", "one", "two", "three", "four", "five", "six", "seven"};
int (*volatile hook)(int, int) = mul;
char scratch[256];
static int counter;
long long wide = 0x1122334455667788LL;
const double weights[4] = {0.5, 0.25, 0.125, 0.0625};

extern int optional_feature(int) __attribute__((weak));

__attribute__((constructor)) static void start_counter(void) { counter = 1; }

static int compare(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

__attribute__((noinline)) int classify(int x) {
  switch (x) {
  case 0: return 17;
  case 1: return 23;
  case 2: return 31;
  case 3: return 47;
  case 4: return 53;
  case 5: return 61;
  case 6: return 73;
  case 7: return 89;
  default: return -1;
  }
}

int main(int argc, char **argv) {
  int values[] = {5, 3, 9, 1};
  qsort(values, 4, sizeof values[0], compare);
  snprintf(scratch, sizeof scratch, "%s-%s-%s", words[argc & 7], ops[argc % 3].name, argv[0]);
  counter += (int)strlen(scratch) + classify(argc) + (int)(weights[argc & 3] * 16);
  if (optional_feature) counter += optional_feature(argc);
  return ops[argc % 3].apply(values[0], counter) + hook(2, 3) + (int)(wide >> 60);
}
