/* Callbacks both ways: the host calls module comparators (qsort, qsort_r, bsearch); the module
   calls host functions and module functions through pointers passed around and stored. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  const char *name;
  int score;
};

static int by_score(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  return x->score - y->score;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int compare_calls;
static int by_distance(const void *a, const void *b, void *context) {
  int centre = *(int *)context;
  compare_calls++;
  return abs(*(const int *)a - centre) - abs(*(const int *)b - centre) ?: *(const int *)a - *(const int *)b;
}

typedef void (*visitor)(const char *item, void *context);
static visitor stored_visitor;
static void *stored_context;

void register_visitor(visitor v, void *context) {
  stored_visitor = v;
  stored_context = context;
}

void visit_all(const char *const *items, int count) {
  for (int i = 0; i < count; i++) stored_visitor(items[i], stored_context);
}

static void count_letters(const char *item, void *context) { *(size_t *)context += strlen(item); }
static void print_item(const char *item, void *context) { printf("%s%s", (const char *)context, item); }

void map_string(char *s, int (*f)(int)) {
  for (; *s; s++) *s = (char)f((unsigned char)*s);
}

int main(void) {
  struct entry entries[] = {{"delta", 40}, {"alpha", 10}, {"echo", 5}, {"charlie", 30}, {"bravo", 20}};
  size_t n = sizeof entries / sizeof entries[0];
  qsort(entries, n, sizeof entries[0], by_score);
  for (size_t i = 0; i < n; i++) printf("%s=%d ", entries[i].name, entries[i].score);
  printf("\n");
  qsort(entries, n, sizeof entries[0], by_name);
  for (size_t i = 0; i < n; i++) printf("%s ", entries[i].name);
  printf("\n");
  struct entry key = {"charlie", 0};
  struct entry *found = bsearch(&key, entries, n, sizeof entries[0], by_name);
  printf("found %s %d\n", found ? found->name : "nothing", found ? found->score : -1);

  int values[] = {1, 9, 4, 7, 3, 6, 5, 8, 2};
  int centre = 5;
  qsort_r(values, 9, sizeof values[0], by_distance, &centre);
  for (int i = 0; i < 9; i++) printf("%d ", values[i]);
  printf("compared %s\n", compare_calls > 0 ? "yes" : "no");

  const char *items[] = {"one", "three", "five"};
  size_t letters = 0;
  register_visitor(count_letters, &letters);
  visit_all(items, 3);
  printf("letters %zu\n", letters);
  register_visitor(print_item, " - ");
  visit_all(items, 3);
  printf("\n");

  char text[] = "Mixed Case Text";
  map_string(text, toupper);
  printf("%s\n", text);
  map_string(text, tolower);
  printf("%s\n", text);
  return 0;
}
