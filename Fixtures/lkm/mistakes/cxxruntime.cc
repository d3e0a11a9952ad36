// cxxruntime: C++ that needs the C++ runtime the kernel does not have: operator new and
// delete, a function-local static with a constructor (thread-safe guards), and a class with a
// pure virtual function.
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/lkm.h>

struct Shape {
	virtual int area() const = 0;
	virtual ~Shape() {}
};

struct Square : Shape {
	explicit Square(int side) : side_(side) {}
	int area() const override { return side_ * side_; }
	int side_;
};

static int counted(int n)
{
	static Square unit(n);
	return unit.area();
}

MOD_MISC("cxxruntime")

static int cxxruntime_load(struct lkm_table *, int cmd)
{
	Shape *shape = new Square(cmd);
	int area = shape->area() + counted(cmd);
	delete shape;
	return area > 100 ? EINVAL : 0;
}

extern "C" int cxxruntime_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, cxxruntime_load, lkm_nofunc, lkm_nofunc)
}
