__thread int shared = 100;
__thread double big[64];
static __thread int calls;

int bump_other(void) { return ++calls + shared; }
int *other_address(void) { return &shared; }
