/* stdio through the stdout, stderr and stdin variables (extern data: gcc's default PIE reaches
   them with R_X86_64_PC32), buffered and unbuffered writes, formatting and scanning. */
#include <stdio.h>
#include <string.h>

int main(void) {
  fprintf(stdout, "to stdout %d\n", 1);
  fprintf(stderr, "to stderr %d\n", 2);
  fputs("fputs line\n", stdout);
  fwrite("fwrite bytes\n", 1, 13, stdout);
  putchar('c');
  putc('\n', stdout);
  fputs("error line\n", stderr);
  printf("fileno %d %d %d\n", fileno(stdin), fileno(stdout), fileno(stderr));
  printf("stdin eof %d\n", fgetc(stdin) == EOF);
  char buffer[64];
  snprintf(buffer, sizeof buffer, "%08.3f|%-6s|%+d|%#x", 3.14159, "left", 5, 255);
  puts(buffer);
  int a = 0;
  char word[16] = "";
  int matched = sscanf("17 apples", "%d %15s", &a, word);
  printf("scanned %d %d %s\n", matched, a, word);
  FILE *out = stdout;
  fflush(out);
  printf("after flush %zu\n", strlen(buffer));
  return 0;
}
