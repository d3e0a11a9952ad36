#ifndef LKM_ARGUMENTS_H
#define LKM_ARGUMENTS_H
/* Swift's CommandLine for lkm's executables without the runtime's start-up search for argv
 * (arguments.c). Nothing to call: linking the target in is the whole of it. */

/* What the Swift standard library calls for CommandLine.arguments and CommandLine.unsafeArgv. */
char *_Nonnull *_Nonnull _swift_stdlib_getUnsafeArgvArgc(int *_Nonnull outArgLen);
void _swift_stdlib_overrideUnsafeArgvArgc(char *_Nonnull *_Nonnull argv, int argc);
#endif
