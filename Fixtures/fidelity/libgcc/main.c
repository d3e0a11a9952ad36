#include <stdio.h>
#include <complex.h>
typedef unsigned __int128 u128;
__attribute__((noinline)) u128 divide(u128 a, u128 b) { return a / b; }
__attribute__((noinline)) __int128 modulo(__int128 a, __int128 b) { return a % b; }
__attribute__((noinline)) int pop(unsigned long long x) { return __builtin_popcountll(x); }
__attribute__((noinline)) float _Complex cmul(float _Complex a, float _Complex b) { return a * b; }
int main(void) {
  u128 big = ((u128)1 << 100) + 12345;
  u128 q = divide(big, 1000000007);
  printf("q %llu %llu\n", (unsigned long long)(q >> 64), (unsigned long long)q);
  printf("r %lld\n", (long long)modulo(-((__int128)1 << 90) - 5, 1000003));
  printf("pop %d\n", pop(0xf0f0f0f0f0f0f0f0ull));
  __builtin_cpu_init();
  printf("sse2 %d x86-64 %d\n", __builtin_cpu_supports("sse2") != 0, __builtin_cpu_is("intel") || __builtin_cpu_is("amd"));
  float _Complex z = cmul(1.0f + 2.0f * I, 3.0f - 1.0f * I);
  printf("cmul %.1f %.1f\n", crealf(z), cimagf(z));
  return 0;
}
