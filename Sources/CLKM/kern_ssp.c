/* The stack protector's runtime, as OpenBSD's kernel has one: modules compiled with
 * -fstack-protector (any level) call __stack_chk_fail when a function's canary was overwritten,
 * and those compiled with -mstack-protector-guard=global read the canary from
 * __stack_chk_guard (the default reads the thread's, at %fs:0x28). A smashed stack is a panic
 * of the module (an oops naming the function that found it), as "smashed stack in %s" is on
 * OpenBSD: the function's return address cannot be trusted, so nothing returns into it. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <sys/random.h>

void clkm_ssp_init(void) {
  uint64_t guard = 0;
  if (getrandom(&guard, sizeof guard, GRND_NONBLOCK) != (ssize_t)sizeof guard)
    guard = 0x5a5aa5a5c3c33c3cULL ^ (uint64_t)(uintptr_t)&guard;
  /* A zero byte first, as the C library's canary: a string copy stops at it. */
  clkm_kd->stack_chk_guard = guard & ~0xffULL;
}

/* Called by the function whose canary no longer matches, instead of returning. */
CLKM_MODAPI _Noreturn void clkm_stack_chk_fail(void) {
  clkm_guard_panic("smashed stack (its stack protector's canary was overwritten)",
                   __builtin_return_address(0));
}

size_t clkm_ssp_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("__stack_chk_fail", clkm_stack_chk_fail),
      CLKM_DATA("__stack_chk_guard", &clkm_kd->stack_chk_guard),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
