// oracle: large large-fno-pic
// The large code model: GOT-relative data (GOTOFF64), the GOT base (GOTPC64), calls through
// PLTOFF64 or GOT64 slots, and 64-bit absolute addresses under -fno-pic.
#include <stdio.h>
#include <string.h>

static int squares[64];
int total;
static const char *const labels[] = {"small", "medium", "large"};
static const char format[] = "%s %d\n";

static __attribute__((noinline)) int square(int x) { return x * x; }
int (*pick)(int) = square;

int main(int argc, char **argv) {
  for (int i = 0; i < 64; i++) squares[i] = square(i);
  total = squares[argc & 63] + pick(argc) + (int)strlen(argv[0]);
  printf(format, labels[total % 3], total);
  return total & 0x7f;
}
