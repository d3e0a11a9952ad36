/* args: alpha 42 0x1f -17 */
/* The environment and arguments: getenv of a variable the test sets (LKM_FIXTURE=matrix),
   setenv/getenv/unsetenv, the environ variable, argv, strtol/strtoul with bases and end pointers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv) {
  const char *fixture = getenv("LKM_FIXTURE");
  printf("LKM_FIXTURE=%s\n", fixture ? fixture : "(unset)");
  printf("unset %s\n", getenv("LKM_SURELY_UNSET_VARIABLE") ? "set" : "null");
  setenv("LKM_MODULE_SET", "0x2a", 1);
  const char *set = getenv("LKM_MODULE_SET");
  printf("set %s = %ld\n", set, strtol(set, NULL, 0));
  int seen = 0;
  for (char **e = environ; *e; e++) seen += strncmp(*e, "LKM_FIXTURE=", 12) == 0 || strcmp(*e, "LKM_MODULE_SET=0x2a") == 0;
  printf("environ entries %d\n", seen);
  unsetenv("LKM_MODULE_SET");
  printf("after unset %s\n", getenv("LKM_MODULE_SET") ? "set" : "null");
  printf("argc %d\n", argc);
  long total = 0;
  for (int i = 1; i < argc; i++) {
    char *end;
    long v = strtol(argv[i], &end, 0);
    printf("argv[%d] %s -> %ld rest '%s'\n", i, argv[i], v, end);
    total += v;
  }
  char *end;
  printf("total %ld base2 %lu base36 %ld\n", total, strtoul("101101", &end, 2), strtol("zz", NULL, 36));
  printf("atoi %d\n", atoi("  -123xyz"));
  return 0;
}
