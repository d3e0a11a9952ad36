/* timeout(9): functions to run after a number of ticks (hz a second), run by a kernel thread
 * (the callout thread) with the big lock held, each a guarded call like any call into module
 * code. The corresponding OpenBSD code is sys/kern/kern_timeout.c.
 *
 * The struct timeout is the module's (in its image or its malloc(9) memory): the kernel reads
 * and writes it only through fault-catching copies, and keeps its own list of what is pending
 * (the address of each struct, when it is due, the module that added it). When a module goes,
 * its pending timeouts are cancelled and reported. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* struct timeout as <sys/timeout.h> declares it (OpenBSD 5.2's layout). */
struct clkm_timeout {
  void *to_list[2];
  void (*to_func)(void *);
  void *to_arg;
  int to_time;
  int to_flags;
};
_Static_assert(sizeof(struct clkm_timeout) == 40, "struct timeout is 40 bytes");
#define TIMEOUT_ONQUEUE 2
#define TIMEOUT_INITIALIZED 4
#define TIMEOUT_TRIGGERED 8

struct pending {
  struct clkm_timeout *to;
  int64_t due; /* tick */
  int module;
};
#define MAX_PENDING 4096
static struct pending pending[MAX_PENDING];
static int npending;
static volatile int64_t ticks;

/* Reads or writes the module's struct; 0, or EFAULT when it is not readable or writable. */
static int read_timeout(struct clkm_timeout *to, struct clkm_timeout *copy) {
  return clkm_copyin(to, copy, sizeof *copy);
}

static int write_flags(struct clkm_timeout *to, int flags, int time) {
  struct clkm_timeout copy;
  if (read_timeout(to, &copy) != 0) return CLKM_EFAULT;
  copy.to_flags = flags;
  copy.to_time = time;
  return clkm_copyout(&copy.to_time, &to->to_time, sizeof copy.to_time + sizeof copy.to_flags);
}

static int find(struct clkm_timeout *to) {
  for (int i = 0; i < npending; i++)
    if (pending[i].to == to) return i;
  return -1;
}

static void remove_at(int i) { pending[i] = pending[--npending]; }

CLKM_MODAPI void clkm_timeout_set(struct clkm_timeout *to, void (*fn)(void *), void *arg) {
  struct clkm_timeout copy;
  memset(&copy, 0, sizeof copy);
  copy.to_func = fn;
  copy.to_arg = arg;
  copy.to_flags = TIMEOUT_INITIALIZED;
  if (clkm_copyout(&copy, to, sizeof copy) != 0)
    clkm_guard_panic("timeout_set: the struct timeout is not writable", __builtin_return_address(0));
}

/* Schedules the timeout `count` ticks from now (at least one); returns 1 if it was not pending
 * already, 0 if it was (it is moved), as OpenBSD's timeout_add does since 5.4. */
CLKM_MODAPI int clkm_timeout_add(struct clkm_timeout *to, int count) {
  if (count < 0) count = 0;
  struct clkm_timeout copy;
  if (read_timeout(to, &copy) != 0)
    clkm_guard_panic("timeout_add: the struct timeout is not readable", __builtin_return_address(0));
  if (!(copy.to_flags & TIMEOUT_INITIALIZED))
    clkm_guard_panic("timeout_add: not initialized (timeout_set first)", __builtin_return_address(0));
  int64_t due = ticks + (count == 0 ? 1 : count);
  int i = find(to);
  int added = i < 0;
  if (i < 0) {
    if (npending == MAX_PENDING) clkm_guard_panic("timeout_add: too many timeouts", __builtin_return_address(0));
    i = npending++;
  }
  pending[i] = (struct pending){to, due, clkm_current_module};
  write_flags(to, (copy.to_flags | TIMEOUT_ONQUEUE) & ~TIMEOUT_TRIGGERED, (int)due);
  return added;
}

static int add_ns(struct clkm_timeout *to, int64_t ns) {
  int hz = clkm_kd->hz > 0 ? clkm_kd->hz : 100;
  int64_t tick_ns = 1000000000 / hz;
  int64_t count = (ns + tick_ns - 1) / tick_ns;
  if (ns > 0 && count == 0) count = 1;
  if (count > 0x7fffffff) count = 0x7fffffff;
  return clkm_timeout_add(to, (int)count);
}

CLKM_MODAPI int clkm_timeout_add_sec(struct clkm_timeout *to, int seconds) {
  return add_ns(to, (int64_t)seconds * 1000000000);
}
CLKM_MODAPI int clkm_timeout_add_msec(struct clkm_timeout *to, int ms) {
  return add_ns(to, (int64_t)ms * 1000000);
}
CLKM_MODAPI int clkm_timeout_add_usec(struct clkm_timeout *to, int us) {
  return add_ns(to, (int64_t)us * 1000);
}
CLKM_MODAPI int clkm_timeout_add_nsec(struct clkm_timeout *to, int ns) { return add_ns(to, ns); }

/* Removes a pending timeout; returns 1 if it was pending. */
CLKM_MODAPI int clkm_timeout_del(struct clkm_timeout *to) {
  int i = find(to);
  struct clkm_timeout copy;
  if (read_timeout(to, &copy) == 0) write_flags(to, copy.to_flags & ~TIMEOUT_ONQUEUE, copy.to_time);
  if (i < 0) return 0;
  remove_at(i);
  return 1;
}

/* ---- The callout thread ---- */

/* Runs what is due; with the big lock held. */
static void softclock(void) {
  ticks++;
  clkm_kd->ticks = (int)ticks;
  clkm_tc_windup();
  for (int i = 0; i < npending;) {
    if (pending[i].due > ticks) {
      i++;
      continue;
    }
    struct pending p = pending[i];
    remove_at(i);
    struct clkm_timeout copy;
    if (read_timeout(p.to, &copy) != 0) {
      clkm_logf("lkm: timeout %p of module id %d is no longer readable: dropped\n", (void *)p.to, p.module);
      continue;
    }
    write_flags(p.to, (copy.to_flags & ~TIMEOUT_ONQUEUE) | TIMEOUT_TRIGGERED, copy.to_time);
    if (!clkm_callable((void *)copy.to_func)) {
      clkm_logf("lkm: timeout %p of module id %d: function %p is not module code: dropped\n",
                (void *)p.to, p.module, (void *)copy.to_func);
      continue;
    }
    clkm_current_module = p.module;
    clkm_set_activity("timeout");
    clkm_fault_t fault;
    if (clkm_call_timeout((uint64_t)(uintptr_t)copy.to_func, (uint64_t)(uintptr_t)copy.to_arg, &fault)) {
      clkm_report_fault(&fault, p.module, "timeout");
    }
    clkm_current_module = -1;
    /* The function may have added or deleted timeouts: start again from the first. */
    i = 0;
  }
}

static volatile int callouts_running;

static void *callout_thread(void *unused) {
  (void)unused;
  clkm_thread_init();
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (callouts_running) {
    int hz = clkm_kd->hz > 0 ? clkm_kd->hz : 100;
    next.tv_nsec += 1000000000L / hz;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) {
    }
    clkm_kernel_lock();
    softclock();
    clkm_kernel_unlock();
  }
  return NULL;
}

int clkm_timeouts_start(void) {
  static pthread_t thread;
  if (callouts_running) return 0;
  callouts_running = 1;
  if (pthread_create(&thread, NULL, callout_thread, NULL) != 0) {
    callouts_running = 0;
    return CLKM_EAGAIN;
  }
  pthread_detach(thread);
  return 0;
}

/* Cancels what module `id` left pending (a timeout it added, or one whose struct lies in
 * [start, end)); returns how many. With the big lock held. */
int clkm_timeout_forget(int id, uint64_t start, uint64_t end) {
  int n = 0;
  for (int i = 0; i < npending;) {
    uint64_t at = (uint64_t)(uintptr_t)pending[i].to;
    if (pending[i].module == id || (at >= start && at < end)) {
      remove_at(i);
      n++;
    } else {
      i++;
    }
  }
  return n;
}

int clkm_timeout_pending_count(int id) {
  int n = 0;
  for (int i = 0; i < npending; i++) n += pending[i].module == id;
  return n;
}

size_t clkm_timeout_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("timeout_set", clkm_timeout_set),
      CLKM_FUNC("timeout_add", clkm_timeout_add),
      CLKM_FUNC("timeout_add_sec", clkm_timeout_add_sec),
      CLKM_FUNC("timeout_add_msec", clkm_timeout_add_msec),
      CLKM_FUNC("timeout_add_usec", clkm_timeout_add_usec),
      CLKM_FUNC("timeout_add_nsec", clkm_timeout_add_nsec),
      CLKM_FUNC("timeout_del", clkm_timeout_del),
      CLKM_DATA("ticks", &clkm_kd->ticks),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
