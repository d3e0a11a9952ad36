// cxxmod: a misc module in C++, compiled with exceptions and RTTI off
// (g++ -c -fno-exceptions -fno-rtti -D_KERNEL -I INCLUDE cxxmod.cc). A global object's
// constructor runs before the entry (the kernel calls the module's initializers); a class with
// a member function counts calls; the kernel's functions are reached through the headers'
// extern "C" declarations, and DISPATCH uses lkm_table's `private` member under its C++ name.
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

namespace {

class Counter {
public:
	explicit Counter(int start) : value_(start) {}
	int next() { return ++value_; }
	int value() const { return value_; }

private:
	int value_;
};

Counter counter(41);  // constructed before LKM_E_LOAD

template <typename T> T twice(T x) { return x + x; }

int cxxmod_load(struct lkm_table *lkmtp, int)
{
	int constructed = counter.value();
	int next = counter.next();
	uprintf("cxxmod: constructed with %d, next %d, twice %ld\n", constructed, next, twice(21L));
	return lkmtp->lkm_private.lkm_any == nullptr ? EINVAL : 0;
}

int cxxmod_unload(struct lkm_table *, int)
{
	uprintf("cxxmod: %d calls\n", counter.value() - 41);
	return 0;
}

}  // namespace

MOD_MISC("cxxmod")

extern "C" int cxxmod_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, cxxmod_load, cxxmod_unload, lkm_nofunc)
}
