/* Constructors and destructors: priorities 101 and 200 and none, defined out of order; two plain
   ones (object order); destructors run after main returns, in reverse. */
#include <stdio.h>

static int initialised = -1;

__attribute__((constructor)) static void plain_first(void) { puts("constructor plain first"); }
__attribute__((constructor(200))) static void ctor_200(void) { puts("constructor 200"); }
__attribute__((constructor(101))) static void ctor_101(void) {
  puts("constructor 101");
  initialised = 101;
}
__attribute__((constructor)) static void plain_second(void) { puts("constructor plain second"); }

__attribute__((destructor(101))) static void dtor_101(void) { puts("destructor 101"); }
__attribute__((destructor)) static void dtor_plain(void) { puts("destructor plain"); }
__attribute__((destructor(200))) static void dtor_200(void) { puts("destructor 200"); }

int main(void) {
  printf("main sees %d\n", initialised);
  return 0;
}
