// cxxcalls: C++ that declares the kernel's printf, and a helper of its own it never defines,
// without extern "C" (and includes none of the kernel's headers, which would declare it).
struct lkm_table;
int printf(const char *, ...);
int helper(int);

extern "C" int cxxcalls_lkmentry(lkm_table *, int cmd, int)
{
	printf("cxxcalls: %d\n", cmd);
	return helper(cmd);
}
