/* status: 3 */
/* errno (glibc's thread-local errno through __errno_location), strerror, perror to stderr, and
   a non-zero exit status from main. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  errno = 0;
  long value = strtol("99999999999999999999999", NULL, 10);
  printf("strtol %d %s %d\n", value == LONG_MAX, errno == ERANGE ? "ERANGE" : "other", errno != 0);
  errno = 0;
  FILE *f = fopen("/nonexistent-lkm-directory/file", "r");
  int saved = errno;
  printf("fopen %s %s: %s\n", f ? "opened" : "failed", saved == ENOENT ? "ENOENT" : "other",
         strerror(saved));
  errno = EINVAL;
  perror("perror");
  printf("set %d %s\n", errno == EINVAL, strerror(EACCES));
  int *location = &errno;
  *location = 0;
  printf("cleared %d\n", errno);
  return 3;
}
