#include <stdio.h>
#include <pthread.h>
#include <mpfr.h>
/* Pi and e to 200 bits in the loading thread and in a new one (MPFR keeps its caches, flags and
 * exponent range in thread-local variables). */
static void *digits(void *arg) {
  mpfr_prec_t bits = (mpfr_prec_t)(long)arg;
  mpfr_t pi, e;
  mpfr_inits2(bits, pi, e, (mpfr_ptr)0);
  mpfr_const_pi(pi, MPFR_RNDN);
  mpfr_set_ui(e, 1, MPFR_RNDN);
  mpfr_exp(e, e, MPFR_RNDN);
  mpfr_printf("%ld bits: pi %.50Rf e %.50Rf inexact %d\n", (long)bits, pi, e, mpfr_inexflag_p() != 0);
  mpfr_clears(pi, e, (mpfr_ptr)0);
  mpfr_free_cache();
  return NULL;
}
int main(void) {
  digits((void *)200L);
  pthread_t t;
  pthread_create(&t, NULL, digits, (void *)300L);
  pthread_join(t, NULL);
  return 0;
}
