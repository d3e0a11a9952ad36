/* lkmflags: -l stdc++ */
/* C++ exceptions through module frames: a module function throws a module-defined exception
   class, another catches it two frames up (running a local destructor while unwinding);
   libstdc++ throws into module frames (vector::at); a rethrow; catch by base class and by
   int; a static object whose constructor runs before main and whose destructor runs at exit
   (registered with __cxa_atexit and __dso_handle). */
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

struct Tracer {
  const char *name;
  explicit Tracer(const char *n) : name(n) { std::printf("construct %s\n", name); }
  ~Tracer() { std::printf("destroy %s\n", name); }
};

static Tracer static_tracer("static object");

struct ParseError : std::runtime_error {
  int position;
  ParseError(const std::string &message, int at) : std::runtime_error(message), position(at) {}
};

__attribute__((noinline)) int parse_digit(const char *s, int at) {
  char c = s[at];
  if (c < '0' || c > '9') throw ParseError(std::string("bad digit '") + c + "'", at);
  return c - '0';
}

__attribute__((noinline)) int parse(const char *s) {
  Tracer frame("parse frame");
  int value = 0;
  for (int i = 0; s[i]; i++) value = value * 10 + parse_digit(s, i);
  return value;
}

__attribute__((noinline)) int checked_sum(const std::vector<int> &v, size_t count) {
  int total = 0;
  for (size_t i = 0; i < count; i++) total += v.at(i);
  return total;
}

__attribute__((noinline)) void rethrow_with_context() {
  try {
    throw 42;
  } catch (int value) {
    std::printf("inner caught %d\n", value);
    throw;
  }
}

int main() {
  try {
    std::printf("parsed %d\n", parse("123"));
    std::printf("parsed %d\n", parse("4x5"));
  } catch (const ParseError &e) {
    std::printf("caught ParseError: %s at %d\n", e.what(), e.position);
  }
  std::vector<int> v{1, 2, 3};
  try {
    std::printf("sum %d\n", checked_sum(v, 3));
    std::printf("sum %d\n", checked_sum(v, 4));
  } catch (const std::out_of_range &) {
    std::printf("caught out_of_range\n");
  }
  try {
    rethrow_with_context();
  } catch (int value) {
    std::printf("outer caught %d\n", value);
  }
  try {
    throw ParseError("as base", 0);
  } catch (const std::exception &e) {
    std::printf("caught std::exception: %s\n", e.what());
  }
  std::printf("main done\n");
  return 0;
}
