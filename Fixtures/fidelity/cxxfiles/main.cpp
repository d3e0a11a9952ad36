#include <vector>
#include <stdexcept>
#include <cstdio>
int sum_b(const std::vector<int>&);
void thrower(int);
template <class T> T twice(T x) { return x + x; }
inline int shared_counter() { static int n = 0; return ++n; }
int main() {
  std::vector<int> v;
  for (int i = 0; i < 10; i++) v.push_back(twice(i));
  std::printf("sum %d %d\n", sum_b(v), shared_counter());
  try { thrower(3); } catch (const std::runtime_error &e) { std::printf("caught %s\n", e.what()); }
  return 0;
}
