int lookup_v1(int x) { return x + 1; }
int lookup_v2(int x) { return x + 2; }
__asm__(".symver lookup_v1, lookup@VERS_1");
__asm__(".symver lookup_v2, lookup@@VERS_2");
