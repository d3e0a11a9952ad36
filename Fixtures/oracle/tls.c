// oracle: default fPIC fno-pic fno-plt gnu2 initial-exec local-dynamic
// Thread-local variables in .tdata and .tbss, initialised with addresses and offsets, read and
// written, and their addresses taken: each -ftls-model and dialect gives the compiler's own
// sequences (general-dynamic with __tls_get_addr by PLT or GOT, local-dynamic, initial-exec,
// local-exec, TLS descriptors) for the oracle to compare with ld's.
#include <stddef.h>

__thread long counter = 42;
__thread char name[24] = "thread-local";
static const char greeting[] = "hello, thread";
__thread const char *cursor = greeting + 3;  // an address in .tdata's image
static __thread int hidden[16];
static __thread long scratch;
__thread struct {
  int a;
  double b;
} pair = {7, 2.5};

long bump(long by) {
  counter += by;
  return counter;
}

int *slot(int k) { return &hidden[k & 15]; }

long mix(void) {
  scratch = counter * 3 + hidden[2];
  hidden[2] = (int)scratch;
  return scratch + pair.a + (long)pair.b + (cursor - greeting) + name[1];
}

const char *name_of(void) { return name; }
void *addresses(int which) { return which ? (void *)&scratch : (void *)&pair; }
