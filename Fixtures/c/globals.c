/* Globals and statics: initialised and zero-filled data, file and function statics, pointers
   stored in data (absolute relocations in .data.rel), a struct table, const data. */
#include <stdio.h>

int global_counter = 7;
int global_zero;
long global_array[5] = {1, 2, 3, 4, 5};
static int file_static = 100;
static int file_static_zero;
int *global_pointer = &global_counter;
static long *array_end = &global_array[4];
const int const_table[4] = {11, 22, 33, 44};
static const int *const_pointer = &const_table[2];
unsigned char bytes[3] = {0xff, 0x80, 0x01};
unsigned long long big_value = 0x123456789abcdef0ULL;

struct point {
  int x, y;
  const char *name;
  struct point *next;
};
struct point points[3] = {
    {1, 2, "first", &points[1]},
    {3, 4, "second", &points[2]},
    {-5, 6, "third", 0},
};

static int next_id(void) {
  static int id = 40;
  return ++id;
}

static int bump(void) {
  file_static_zero += 3;
  return file_static_zero;
}

static int *counter_address(void) { return &global_counter; }

int main(void) {
  printf("counter %d zero %d\n", global_counter, global_zero);
  *global_pointer += 1;
  global_zero = 9;
  printf("counter %d zero %d same %d\n", global_counter, global_zero,
         counter_address() == global_pointer);
  long sum = 0;
  for (int i = 0; i < 5; i++) sum += global_array[i];
  printf("sum %ld last %ld\n", sum, *array_end);
  int first = bump();
  int second = bump();
  printf("file statics %d %d %d\n", file_static, first, second);
  int a = next_id();
  int b = next_id();
  printf("ids %d %d\n", a, b);
  printf("const %d %d\n", const_table[1], *const_pointer);
  printf("bytes %u %u %u big %llx\n", bytes[0], bytes[1], bytes[2], big_value);
  for (struct point *p = points; p; p = p->next) printf("point %s (%d, %d)\n", p->name, p->x, p->y);
  return 0;
}
