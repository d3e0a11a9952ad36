/* Function-pointer tables: a const table of module functions (.data.rel.ro), a writable table
   with host functions in it, function pointers compared for identity (a module function and a
   host function must have one address however their address is taken). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef long (*binary_op)(long, long);

static long add(long a, long b) { return a + b; }
static long subtract(long a, long b) { return a - b; }
static long multiply(long a, long b) { return a * b; }
long divide(long a, long b) { return b ? a / b : 0; }

struct operation {
  const char *name;
  binary_op apply;
};

static const struct operation operations[] = {
    {"add", add}, {"subtract", subtract}, {"multiply", multiply}, {"divide", divide}};

size_t (*length_function)(const char *) = strlen;
int (*character_functions[])(int) = {toupper, tolower, isdigit};
binary_op selected = multiply;

static binary_op lookup(const char *name) {
  for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++)
    if (strcmp(operations[i].name, name) == 0) return operations[i].apply;
  return 0;
}

int main(void) {
  for (size_t i = 0; i < sizeof operations / sizeof operations[0]; i++)
    printf("%s(84, 4) = %ld\n", operations[i].name, operations[i].apply(84, 4));
  printf("selected %ld\n", selected(6, 7));
  printf("identity %d %d %d\n", lookup("divide") == divide, selected == lookup("multiply"),
         lookup("missing") == 0);
  size_t (*local_length)(const char *) = strlen;
  printf("host identity %d %d\n", local_length == length_function, character_functions[0] == toupper);
  printf("length %zu\n", length_function("function pointer"));
  printf("chars %c %c %d\n", character_functions[0]('q'), character_functions[1]('Q'),
         character_functions[2]('7') != 0);
  return 0;
}
