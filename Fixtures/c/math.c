/* Floating point: constants in .rodata.cst4/.cst8/.cst16, conversions, and libm functions
   (sin, cos, sqrt, pow, exp, log, atan2, floor, fmod) called on values the compiler cannot fold. */
#include <math.h>
#include <stdio.h>

volatile double one = 1.0, two = 2.0, half = 0.5, big = 1e300, minus = -3.75;
volatile float third = 1.0f / 3.0f;
volatile unsigned long large_unsigned = 18446744073709551615UL;
static const double coefficients[] = {0.1, -2.5e-3, 6.02214076e23, 1.0 / 7.0};

static double polynomial(double x) {
  double y = 0;
  for (int i = 3; i >= 0; i--) y = y * x + coefficients[i];
  return y;
}

int main(void) {
  printf("sin %.12f cos %.12f\n", sin(one), cos(one));
  printf("sqrt %.12f pow %.6f\n", sqrt(two), pow(two, 0.5 + 10));
  printf("exp %.12f log %.12f\n", exp(one), log(two));
  printf("atan2 %.12f pi %.12f\n", atan2(one, one) * 4, M_PI);
  printf("floor %.1f ceil %.1f fmod %.3f fabs %.2f\n", floor(minus), ceil(minus), fmod(10.5, two),
         fabs(minus));
  printf("float %.7f %.7f sinf %.6f\n", third, third * 3.0f, sinf(third));
  printf("inf %f %f nan %d\n", big * big, -big * big, isnan(big * big - big * big));
  printf("zero %.1f %d\n", -0.0 * half, signbit(-0.0 * half) != 0);
  printf("convert %.1f %ld %lu\n", (double)large_unsigned, (long)(minus * 100), (unsigned long)(big > 1 ? 3e9 : 0));
  printf("polynomial %.9g\n", polynomial(half));
  printf("hypot %.12f cbrt %.12f\n", hypot(3.0 * one, 4.0 * one), cbrt(27.0 * one));
  return 0;
}
