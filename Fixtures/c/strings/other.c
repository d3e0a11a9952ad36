#include <stddef.h>

static const char *const table[] = {"delta", "gamma", "beta", "alpha", "shared literal"};

const char *other_greeting(void) { return "shared literal"; }
const char *other_suffix(void) { return "a long literal with a suffix" + 22; }
const char *other_word(int i) { return table[i]; }
