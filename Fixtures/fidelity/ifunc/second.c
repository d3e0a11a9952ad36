typedef int (*fp)(int);
int f(int);
fp addr2(void) { return f; }
fp table2[] = { f };
