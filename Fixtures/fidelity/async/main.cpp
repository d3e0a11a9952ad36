// std::call_once and std::async use libstdc++'s own thread-local variables (__once_callable,
// __once_call): references from the module to the host's TLS.
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

static std::once_flag flag;
thread_local int per_thread = 3;

static int work(int n) {
  std::call_once(flag, [] { std::printf("once\n"); });
  per_thread += n;
  return per_thread * 2;
}

int main() {
  std::vector<std::future<int>> results;
  for (int i = 1; i <= 4; i++) results.push_back(std::async(std::launch::async, work, i));
  int total = 0;
  for (auto &r : results) total += r.get();
  std::thread t([] { std::printf("thread %d\n", per_thread); });
  t.join();
  std::printf("total %d main %d\n", total, work(10));
  return 0;
}
