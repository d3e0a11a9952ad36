// oracle: default fPIC fno-plt large
// Host data reached from the module: stdout and environ (PC32 under gcc's default PIE, GOT
// loads under -fPIC and from clang), next to calls into libc.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;
static const char banner[] = "environment:";

int main(void) {
  size_t total = 0;
  for (char **e = environ; *e; e++) total += strlen(*e);
  fputs(banner, stdout);
  fprintf(stderr, "%zu\n", total);
  return environ[0] != 0 && stdout != 0 ? 0 : 1;
}
