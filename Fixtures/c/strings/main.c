/* String literals in SHF_MERGE|SHF_STRINGS sections (.rodata.str1.1), the same literals in two
   objects, pointers into the middle of a literal, a table of literals, and a char array. */
#include <stdio.h>
#include <string.h>

const char *other_greeting(void);
const char *other_suffix(void);
const char *other_word(int i);

static const char *const words[] = {"alpha", "beta", "gamma", "delta", "shared literal"};
const char *tail = "hello world" + 6;
char mutable_text[] = "mutable";

static const char *pick(int i) {
  switch (i & 3) {
  case 0: return "zero";
  case 1: return "one";
  case 2: return "two";
  default: return "three";
  }
}

int main(void) {
  printf("%s|%s\n", "shared literal", other_greeting());
  printf("%s|%s\n", tail, other_suffix());
  printf("equal %d %d\n", strcmp("shared literal", other_greeting()) == 0,
         strcmp(words[4], other_word(4)) == 0);
  for (int i = 0; i < 5; i++) printf("%d %s %s %s\n", i, words[i], other_word(i), pick(i));
  mutable_text[0] = 'M';
  printf("%s %zu %zu\n", mutable_text, strlen("a\0b"), sizeof "a\0b");
  printf("%s\n", "world");
  return 0;
}
