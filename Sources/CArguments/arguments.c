/* Swift's CommandLine, answered from what the C library hands the executable's constructors.
 *
 * The Swift runtime's own answer (CommandLine.cpp in libswiftCore.a) finds argv in a static
 * constructor that reads /proc/self/maps with fgets and sscanf to search the stack for it:
 * 139,000 instructions and a /proc file of every mapping, 16 % of the instructions of an
 * `lkmrun -n empty.o`, paid by every start of every tool. glibc calls each ELF constructor of
 * an executable with (argc, argv, envp). The two functions below, defined in an object of the
 * executable, take the archive member's place: the static linker finds them before it searches
 * libswiftCore.a (the tools link the runtime in, -static-stdlib) and never pulls
 * CommandLine.cpp.o in. Only executables depend on this target, never a library. */
#include <stddef.h>
#include "arguments.h"

static char **arguments;
static int argumentCount;
static char **overrideArguments;
static int overrideCount;
static char *noArguments[] = {NULL};

__attribute__((constructor(101))) static void grabArguments(int argc, char **argv, char **envp) {
  (void)envp;
  arguments = argv;
  argumentCount = argc;
}

/* What `Swift.CommandLine` reads: the override if one was set, else the process's arguments. */
char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
  if (overrideArguments != NULL) {
    *outArgLen = overrideCount;
    return overrideArguments;
  }
  if (arguments == NULL) {
    *outArgLen = 0;
    return noArguments;
  }
  *outArgLen = argumentCount;
  return arguments;
}

void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
  overrideArguments = argv;
  overrideCount = argc;
}
