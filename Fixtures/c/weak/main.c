/* Weak symbols: weak definitions overridden by strong ones in another object (function and
   data), weak definitions that stay, and weak undefined references (function and data) that
   resolve to 0, or to the host C library when it defines them. */
#include <stdio.h>

__attribute__((weak)) int overridden(void) { return 1; }
__attribute__((weak)) int kept(void) { return 3; }
__attribute__((weak)) int weak_data = 10;
__attribute__((weak)) int weak_data_kept = 30;

extern int missing_function(void) __attribute__((weak));
extern int missing_data __attribute__((weak));
extern int defined_elsewhere(void) __attribute__((weak));
extern int rand_r(unsigned int *seed) __attribute__((weak));

int strong_reads_weak(void);

int main(void) {
  printf("overridden %d kept %d\n", overridden(), kept());
  printf("data %d kept %d other %d\n", weak_data, weak_data_kept, strong_reads_weak());
  printf("missing function %s\n", missing_function ? "present" : "absent");
  if (missing_function) printf("called %d\n", missing_function());
  printf("missing data %s\n", &missing_data ? "present" : "absent");
  printf("defined elsewhere %s\n", defined_elsewhere ? "present" : "absent");
  if (defined_elsewhere) printf("called %d\n", defined_elsewhere());
  unsigned int seed = 1;
  printf("host %s\n", rand_r ? "present" : "absent");
  if (rand_r) printf("rand_r %d\n", rand_r(&seed));
  return 0;
}
