/* The kernel's clocks (OpenBSD's kern_tc.c): the time since boot (nanouptime, microuptime),
 * the cheaper readings as of the last clock tick (getnanotime, getmicrotime, getnanouptime,
 * getmicrouptime), and the variables time_second and time_uptime, brought up to date at every
 * tick of the callout thread and before every request (clkm_tc_windup). microtime and nanotime,
 * the precise time of day, are kern_conf.c's.
 *
 * "Boot" is the kernel process's start (clkm_tc_init): a kernel rebooted after a panic starts
 * its uptime again, as a machine does. The get* forms read the host's coarse clocks
 * (CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE), which are the time at the host's last tick:
 * what OpenBSD's get* forms give, and as cheap. The boot instant is taken from the coarse clock,
 * which is never ahead of the precise one, so no uptime is negative. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <time.h>

static struct timespec boot;

void clkm_tc_init(void) {
  clock_gettime(CLOCK_MONOTONIC_COARSE, &boot);
  clkm_tc_windup();
}

/* t - boot, normalised. */
static struct clkm_timespec since_boot(struct timespec t) {
  struct clkm_timespec u = {t.tv_sec - boot.tv_sec, t.tv_nsec - boot.tv_nsec};
  if (u.tv_nsec < 0) {
    u.tv_nsec += 1000000000L;
    u.tv_sec--;
  }
  if (u.tv_sec < 0) u.tv_sec = u.tv_nsec = 0;
  return u;
}

static struct clkm_timespec read_clock(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (struct clkm_timespec){t.tv_sec, t.tv_nsec};
}

static struct clkm_timespec uptime(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return since_boot(t);
}

static struct clkm_timeval to_timeval(struct clkm_timespec ts) {
  return (struct clkm_timeval){ts.tv_sec, ts.tv_nsec / 1000};
}

void clkm_tc_windup(void) {
  clkm_kd->time_second = read_clock(CLOCK_REALTIME).tv_sec;
  clkm_kd->time_uptime = uptime(CLOCK_MONOTONIC).tv_sec;
}

CLKM_MODAPI void clkm_getnanotime(struct clkm_timespec *ts) { *ts = read_clock(CLOCK_REALTIME_COARSE); }

CLKM_MODAPI void clkm_getmicrotime(struct clkm_timeval *tv) {
  *tv = to_timeval(read_clock(CLOCK_REALTIME_COARSE));
}

CLKM_MODAPI void clkm_nanouptime(struct clkm_timespec *ts) { *ts = uptime(CLOCK_MONOTONIC); }

CLKM_MODAPI void clkm_microuptime(struct clkm_timeval *tv) { *tv = to_timeval(uptime(CLOCK_MONOTONIC)); }

CLKM_MODAPI void clkm_getnanouptime(struct clkm_timespec *ts) { *ts = uptime(CLOCK_MONOTONIC_COARSE); }

CLKM_MODAPI void clkm_getmicrouptime(struct clkm_timeval *tv) {
  *tv = to_timeval(uptime(CLOCK_MONOTONIC_COARSE));
}

size_t clkm_tc_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("getnanotime", clkm_getnanotime),       CLKM_FUNC("getmicrotime", clkm_getmicrotime),
      CLKM_FUNC("nanouptime", clkm_nanouptime),         CLKM_FUNC("microuptime", clkm_microuptime),
      CLKM_FUNC("getnanouptime", clkm_getnanouptime),   CLKM_FUNC("getmicrouptime", clkm_getmicrouptime),
      CLKM_DATA("time_uptime", &clkm_kd->time_uptime),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
