/* Sleeping and the big kernel lock, as OpenBSD's kernel had them (sys/kern/kern_synch.c,
 * tsleep(9), spl(9)).
 *
 * Every request runs in a kernel thread of its own, and all kernel code (the Swift kernel
 * included) runs with the one big lock held: only tsleep lets go of it, while the thread
 * sleeps. wakeup(ident) wakes every thread sleeping on ident, wakeup_one the first; a sleep
 * with a timeout in ticks ends with EWOULDBLOCK, and one with PCATCH ends with EINTR once the
 * request it serves is cancelled (the client went away). The spl functions keep OpenBSD's
 * interface and meaning under the big lock: interrupts (timeouts here) are held off while the
 * lock is held, so raising the level only records it.
 *
 * How the supervisor tells a kernel stuck with its lock from one whose threads sleep: the
 * status in the shared area says since when the lock has been held (lkm_status_lock). */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t kernel_lock = PTHREAD_MUTEX_INITIALIZER;
/* Whether this thread holds the lock (threads a module started with pthread_create do not:
 * tsleep and wakeup take it for them). */
static __thread int holding;

void clkm_kernel_lock(void) {
  pthread_mutex_lock(&kernel_lock);
  holding = 1;
  lkm_status_lock(clkm_shared(), 1);
}

int clkm_kernel_lock_held(void) { return holding; }

void clkm_kernel_unlock(void) {
  lkm_status_lock(clkm_shared(), 0);
  holding = 0;
  pthread_mutex_unlock(&kernel_lock);
}

int clkm_kernel_lock_take(void) {
  if (holding) return 0;
  clkm_kernel_lock();
  return 1;
}

/* ---- Requests: what a kernel thread serves, and their cancellation ---- */

#define MAX_REQUESTS 1024
static struct {
  uint64_t token;
  volatile int cancelled;
} requests[MAX_REQUESTS];
static uint64_t next_token = 1;
static __thread int current_request = -1;

uint64_t clkm_request_begin(void) {
  /* Under the big lock. */
  for (int i = 0; i < MAX_REQUESTS; i++) {
    if (requests[i].token == 0) {
      requests[i].token = next_token++;
      requests[i].cancelled = 0;
      current_request = i;
      return requests[i].token;
    }
  }
  current_request = -1;
  return 0;
}

void clkm_request_end(void) {
  if (current_request >= 0) requests[current_request].token = 0;
  current_request = -1;
}

/* Called by the channel thread, without the big lock: the flag is read by the sleeper, which
 * looks at it at least every tenth of a second. */
void clkm_request_cancel(uint64_t token) {
  if (token == 0) return;
  for (int i = 0; i < MAX_REQUESTS; i++)
    if (__atomic_load_n(&requests[i].token, __ATOMIC_ACQUIRE) == token)
      __atomic_store_n(&requests[i].cancelled, 1, __ATOMIC_RELEASE);
}

int clkm_request_cancelled(void) {
  return current_request >= 0 && __atomic_load_n(&requests[current_request].cancelled, __ATOMIC_ACQUIRE);
}

/* ---- Sleeping ---- */

struct sleeper {
  const volatile void *ident;
  const char *wmesg;
  pthread_cond_t cond;
  int woken;
  struct sleeper *next;
};
static struct sleeper *sleepers;

static void add_sleeper(struct sleeper *s) {
  s->next = NULL;
  struct sleeper **p = &sleepers;
  while (*p != NULL) p = &(*p)->next;
  *p = s;
}

static void remove_sleeper(struct sleeper *s) {
  for (struct sleeper **p = &sleepers; *p != NULL; p = &(*p)->next) {
    if (*p == s) {
      *p = s->next;
      return;
    }
  }
}

static struct timespec after(struct timespec t, long nanoseconds) {
  t.tv_nsec += nanoseconds;
  while (t.tv_nsec >= 1000000000L) {
    t.tv_nsec -= 1000000000L;
    t.tv_sec++;
  }
  return t;
}

static int before(struct timespec a, struct timespec b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static int sleep_locked(const volatile void *ident, int priority, const char *wmesg, int timo);

CLKM_MODAPI int clkm_tsleep(const volatile void *ident, int priority, const char *wmesg, int timo) {
  if (ident == NULL) return CLKM_EINVAL;
  if (holding) return sleep_locked(ident, priority, wmesg, timo);
  clkm_kernel_lock();
  int result = sleep_locked(ident, priority, wmesg, timo);
  clkm_kernel_unlock();
  return result;
}

static int sleep_locked(const volatile void *ident, int priority, const char *wmesg, int timo) {
  struct sleeper s = {ident, wmesg, PTHREAD_COND_INITIALIZER, 0, NULL};
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&s.cond, &attr);
  pthread_condattr_destroy(&attr);
  struct timespec now, deadline;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int hz = clkm_kd->hz > 0 ? clkm_kd->hz : 100;
  int timed = timo > 0;
  if (timed) deadline = after(now, (long)timo * (1000000000L / hz));
  int result = 0;
  add_sleeper(&s);
  /* Asleep, the thread is not running module code: no watchdog. */
  clkm_watchdog_pause();
  while (!s.woken) {
    if ((priority & CLKM_PCATCH) && clkm_request_cancelled()) {
      result = CLKM_EINTR;
      break;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (timed && !before(now, deadline)) {
      result = CLKM_EWOULDBLOCK;
      break;
    }
    struct timespec wake = after(now, 100 * 1000 * 1000);
    if (timed && before(deadline, wake)) wake = deadline;
    lkm_status_lock(clkm_shared(), 0);
    pthread_cond_timedwait(&s.cond, &kernel_lock, &wake);
    lkm_status_lock(clkm_shared(), 1);
  }
  remove_sleeper(&s);
  clkm_watchdog_resume();
  pthread_cond_destroy(&s.cond);
  return result;
}

static void wake(const volatile void *ident, int all) {
  for (struct sleeper *s = sleepers; s != NULL; s = s->next) {
    if (s->ident == ident && !s->woken) {
      s->woken = 1;
      pthread_cond_signal(&s->cond);
      if (!all) return;
    }
  }
}

static void wake_locked(const volatile void *ident, int all) {
  if (holding) {
    wake(ident, all);
    return;
  }
  clkm_kernel_lock();
  wake(ident, all);
  clkm_kernel_unlock();
}

CLKM_MODAPI void clkm_wakeup(const volatile void *ident) { wake_locked(ident, 1); }
CLKM_MODAPI void clkm_wakeup_one(const volatile void *ident) { wake_locked(ident, 0); }

int clkm_sleepers(const volatile void *ident) {
  int n = 0;
  for (struct sleeper *s = sleepers; s != NULL; s = s->next) n += s->ident == ident;
  return n;
}

/* ---- spl(9) ---- */

static __thread int ipl;

static int raise_to(int level) {
  int old = ipl;
  if (level > ipl) ipl = level;
  return old;
}

CLKM_MODAPI int clkm_splhigh(void) { return raise_to(CLKM_IPL_HIGH); }
CLKM_MODAPI int clkm_splclock(void) { return raise_to(CLKM_IPL_CLOCK); }
CLKM_MODAPI int clkm_splstatclock(void) { return raise_to(CLKM_IPL_CLOCK); }
CLKM_MODAPI int clkm_splvm(void) { return raise_to(CLKM_IPL_VM); }
CLKM_MODAPI int clkm_spltty(void) { return raise_to(CLKM_IPL_TTY); }
CLKM_MODAPI int clkm_splnet(void) { return raise_to(CLKM_IPL_NET); }
CLKM_MODAPI int clkm_splbio(void) { return raise_to(CLKM_IPL_BIO); }
CLKM_MODAPI int clkm_splsoftnet(void) { return raise_to(CLKM_IPL_SOFTNET); }
CLKM_MODAPI int clkm_splsoftclock(void) { return raise_to(CLKM_IPL_SOFTCLOCK); }
CLKM_MODAPI int clkm_spl0(void) {
  int old = ipl;
  ipl = CLKM_IPL_NONE;
  return old;
}
CLKM_MODAPI void clkm_splx(int level) { ipl = level; }

size_t clkm_synch_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("tsleep", clkm_tsleep),         CLKM_FUNC("wakeup", clkm_wakeup),
      CLKM_FUNC("wakeup_one", clkm_wakeup_one), CLKM_FUNC("splhigh", clkm_splhigh),
      CLKM_FUNC("splclock", clkm_splclock),     CLKM_FUNC("splstatclock", clkm_splstatclock),
      CLKM_FUNC("splvm", clkm_splvm),           CLKM_FUNC("spltty", clkm_spltty),
      CLKM_FUNC("splnet", clkm_splnet),         CLKM_FUNC("splbio", clkm_splbio),
      CLKM_FUNC("splsoftnet", clkm_splsoftnet), CLKM_FUNC("splsoftclock", clkm_splsoftclock),
      CLKM_FUNC("spl0", clkm_spl0),             CLKM_FUNC("splx", clkm_splx),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
