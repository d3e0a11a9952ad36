/* Thread-local variables of every kind, in two objects, read and written by the loading thread
 * and by threads created afterwards (each must start from the initial values). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

int global_value = 42;
__thread int counter = 5;
__thread char name[32];
static __thread int *pointer = &global_value;
static __thread long local_static = 7;
extern __thread int shared;
extern __thread double big[64];
int bump_other(void);
int *other_address(void);

static void report(const char *who) {
  printf("%s: counter %d name '%s' *pointer %d local %ld shared %d big %g other %d\n", who, counter,
         name, *pointer, local_static, shared, big[3], bump_other());
}

static void *worker(void *arg) {
  long id = (long)arg;
  char who[32];
  snprintf(who, sizeof who, "thread %ld", id);
  report(who);
  counter += (int)id;
  snprintf(name, sizeof name, "worker-%ld", id);
  shared += (int)id * 10;
  big[3] = (double)id / 4;
  local_static *= id;
  report(who);
  return other_address();
}

int main(void) {
  report("main");
  counter = 50;
  strcpy(name, "main");
  local_static = 70;
  report("main");
  int *mine = other_address();
  for (long id = 1; id <= 3; id++) {
    pthread_t thread;
    void *theirs;
    pthread_create(&thread, NULL, worker, (void *)id);
    pthread_join(thread, &theirs);
    printf("distinct %d\n", theirs != (void *)mine);
  }
  report("main");
  return 0;
}
