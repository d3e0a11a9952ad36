#include <vector>
#include <stdexcept>
#include <string>
template <class T> T twice(T x) { return x + x; }
inline int shared_counter() { static int n = 0; return ++n; }
int sum_b(const std::vector<int>& v) {
  std::vector<int> w(v);
  w.push_back(twice(1));
  int s = 0; for (int x : w) s += x;
  return s + shared_counter();
}
void thrower(int n) { if (n) throw std::runtime_error("from b " + std::to_string(n)); }
