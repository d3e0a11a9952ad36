/* Module-defined variadic functions: va_list through vsnprintf and vfprintf, va_copy, integer
   and floating-point arguments (the %al register convention), many arguments on the stack. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char line[128];

__attribute__((noinline)) int format(char *buffer, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buffer, size, fmt, ap);
  va_end(ap);
  return n;
}

__attribute__((noinline)) void log_line(const char *fmt, ...) {
  va_list ap, copy;
  va_start(ap, fmt);
  va_copy(copy, ap);
  int needed = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  printf("[%2d] ", needed);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  putchar('\n');
}

__attribute__((noinline)) long sum_longs(int count, ...) {
  va_list ap;
  va_start(ap, count);
  long total = 0;
  for (int i = 0; i < count; i++) total += va_arg(ap, long);
  va_end(ap);
  return total;
}

__attribute__((noinline)) double mean(int count, ...) {
  va_list ap;
  va_start(ap, count);
  double total = 0;
  for (int i = 0; i < count; i++) total += va_arg(ap, double);
  va_end(ap);
  return total / count;
}

int main(void) {
  int n = format(line, sizeof line, "%s-%d-%x-%c-%.2f", "fmt", 42, 255, 'z', 2.5);
  printf("%d %s\n", n, line);
  n = format(line, 8, "%s", "truncated output");
  printf("%d %s\n", n, line);
  log_line("plain");
  log_line("%d + %d = %d", 2, 3, 5);
  log_line("%s %5.1f %-4s|", "pad", 3.14159, "ab");
  printf("sum %ld\n", sum_longs(10, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L));
  printf("mean %.3f\n", mean(9, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.5));
  return 0;
}
