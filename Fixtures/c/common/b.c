int shared_common[100];
char sized_common[64];
int defined_common = 5;

void fill_b(void) {
  for (int i = 50; i < 100; i++) shared_common[i] = 2 * i;
  for (int i = 16; i < 64; i++) sized_common[i] = 2;
}

long sum_b(void) {
  long total = 0;
  for (int i = 0; i < 100; i++) total += shared_common[i];
  return total;
}

unsigned long sized_sum(void) {
  unsigned long total = 0;
  for (int i = 0; i < 64; i++) total += (unsigned char)sized_common[i];
  return total;
}
