int shared_common[100];
char sized_common[16];
int defined_common;

void fill_a(void) {
  for (int i = 0; i < 50; i++) shared_common[i] = i;
  for (int i = 0; i < 16; i++) sized_common[i] = 1;
}
