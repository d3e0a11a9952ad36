/* Switch jump tables: a dense switch whose cases call different functions (a jump table of code
   addresses, relative in PIC and absolute under -fno-pic), and a dense switch of values
   (often a lookup table in .rodata). */
#include <stdio.h>

static unsigned trace;
__attribute__((noinline)) static int mark(int value) {
  trace = trace * 31 + value;
  return value;
}

__attribute__((noinline)) static int dispatch(int op, int x) {
  switch (op) {
  case 0: return mark(x + 1);
  case 1: return mark(x * 2);
  case 2: return mark(x - 3);
  case 3: return mark(x * x);
  case 4: puts("case 4"); return mark(4);
  case 5: return mark(x / 2);
  case 6: return mark(x % 5);
  case 7: return mark(-x);
  case 8: return mark(x << 3);
  case 9: return mark(x >> 1);
  case 10: return mark(x ^ 0x55);
  case 11: return mark(x | 0x100);
  case 12: puts("case 12"); return mark(12);
  case 13: return mark(x & 7);
  case 14: return mark(~x);
  case 15: return mark(x + 1000);
  case 16: return mark(x * 17);
  case 17: return mark(x - 170);
  case 18: puts("case 18"); return mark(18);
  case 19: return mark(x * 3 + 1);
  case 20: return mark(x / 3);
  case 21: return mark(x + x);
  default: return mark(-1);
  }
}

__attribute__((noinline)) static const char *month(int m) {
  switch (m) {
  case 1: return "January";
  case 2: return "February";
  case 3: return "March";
  case 4: return "April";
  case 5: return "May";
  case 6: return "June";
  case 7: return "July";
  case 8: return "August";
  case 9: return "September";
  case 10: return "October";
  case 11: return "November";
  case 12: return "December";
  default: return "?";
  }
}

__attribute__((noinline)) static long days(int m) {
  switch (m) {
  case 1: return 31;
  case 2: return 28;
  case 3: return 31;
  case 4: return 30;
  case 5: return 31;
  case 6: return 30;
  case 7: return 31;
  case 8: return 31;
  case 9: return 30;
  case 10: return 31;
  case 11: return 30;
  case 12: return 31;
  default: return 0;
  }
}

int main(void) {
  for (int op = -1; op <= 23; op++) printf("op %d -> %d\n", op, dispatch(op, 21));
  printf("trace %u\n", trace);
  long total = 0;
  for (int m = 0; m <= 13; m++) {
    printf("%s ", month(m));
    total += days(m);
  }
  printf("\ndays %ld\n", total);
  return 0;
}
