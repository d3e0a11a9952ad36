// oracle: default fPIC fno-plt fno-pic large
// Calls to functions no placement can reach ('far_function' and 'far_other_function', which
// the tests' provider puts in the kernel half): the module must route them through stubs, or
// through GOT slots under -fno-plt. Never run.
extern int far_function(int);
extern int far_other_function(int);

int call_both(int x) { return far_function(x) + far_other_function(x + 1); }

int tail(int x) { return far_function(x * 3); }

int twice(int x) { return far_other_function(x) + far_other_function(x + 2); }
