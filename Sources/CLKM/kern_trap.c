/* Guarded calls into module code. A fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE), a panic() or the
 * watchdog during a guarded call returns to the call's sigsetjmp with the fault recorded; the
 * kernel then writes an oops and fails the request. A fault in the kernel's own code is a real
 * kernel bug: lkmd prints a panic message and dies of the signal. */
#define _GNU_SOURCE
#include "clkm.h"
#include "clkm_abi.h"

#include <link.h>
#include <sys/mman.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

int clkm_kernel_arena_init(void);
void clkm_sysent_init(void);
extern sigjmp_buf *volatile clkm_copy_jmp;
extern volatile int clkm_copy_active;

/* The functions modules call (section clkm_modapi). */
extern char __start_clkm_modapi[], __stop_clkm_modapi[];

#define MAX_TEXT 1024
static struct { int id; uint64_t start, end; } texts[MAX_TEXT];
static volatile int ntexts;

static sigjmp_buf *volatile guard_jmp;
static volatile int guard_active;
static clkm_fault_t *volatile guard_fault;
static unsigned watchdog_seconds = 10;
static timer_t watchdog_timer;
static int watchdog_ready;
static uint64_t kernel_text_start, kernel_text_end, kernel_base;
/* Where guarded calls record whether module code is running (the sandbox's shared page). */
static volatile int32_t *phase_word;

void clkm_set_phase_word(int32_t *word) { phase_word = word; }

/* Module code runs on a stack of its own, through clkm_isolated_call: the kernel's frames are
 * not below the module's stack pointer for it to overwrite, and the callee-saved registers,
 * the stack pointer, MXCSR and the x87 control word the kernel had are restored from a save
 * area when the call returns, whatever the module did to them (a module that breaks the ABI
 * would otherwise crash the kernel after it returned: modfuzz found such modules). Module code
 * starts with its arguments and stack pointer only: every other general register is zero, so
 * that no kernel pointer is left in one for mangled code to write through. */
#define MODULE_STACK_BYTES (8u << 20)
static uint64_t module_stack_top;
uint64_t clkm_isolated_saved[8]; /* rsp, mxcsr, fpu control word (used by the assembly) */
uint64_t clkm_isolated_call(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t stack);
__asm__(".text\n"
        ".globl clkm_isolated_call\n"
        ".type clkm_isolated_call,@function\n"
        "clkm_isolated_call:\n"
        "  push %rbp\n"
        "  push %rbx\n"
        "  push %r12\n"
        "  push %r13\n"
        "  push %r14\n"
        "  push %r15\n"
        "  mov %rsp, clkm_isolated_saved(%rip)\n"
        "  stmxcsr clkm_isolated_saved+8(%rip)\n"
        "  fnstcw clkm_isolated_saved+16(%rip)\n"
        "  mov %rdi, %r11\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        "  mov %r8, %rsp\n"
        /* No kernel pointers left in registers for module code to write through. */
        "  xor %eax, %eax\n"
        "  xor %ecx, %ecx\n"
        "  xor %r8d, %r8d\n"
        "  xor %r9d, %r9d\n"
        "  xor %r10d, %r10d\n"
        "  xor %ebx, %ebx\n"
        "  xor %ebp, %ebp\n"
        "  xor %r12d, %r12d\n"
        "  xor %r13d, %r13d\n"
        "  xor %r14d, %r14d\n"
        "  xor %r15d, %r15d\n"
        "  call *%r11\n"
        "  mov clkm_isolated_saved(%rip), %rsp\n"
        "  ldmxcsr clkm_isolated_saved+8(%rip)\n"
        "  fldcw clkm_isolated_saved+16(%rip)\n"
        "  cld\n"
        "  pop %r15\n"
        "  pop %r14\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  pop %rbx\n"
        "  pop %rbp\n"
        "  ret\n"
        ".size clkm_isolated_call, .-clkm_isolated_call\n");

/* fn(a0, a1, a2) on the module stack (or directly, if it could not be mapped). */
static uint64_t module_call(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2) {
  if (module_stack_top == 0) return ((uint64_t(*)(uint64_t, uint64_t, uint64_t))(uintptr_t)fn)(a0, a1, a2);
  return clkm_isolated_call(fn, a0, a1, a2, module_stack_top);
}

void clkm_register_module_text(int id, uint64_t start, uint64_t end) {
  for (int i = 0; i < ntexts; i++) {
    if (texts[i].id == id) {
      texts[i].start = start;
      texts[i].end = end;
      return;
    }
  }
  if (ntexts < MAX_TEXT) {
    texts[ntexts].id = id;
    texts[ntexts].start = start;
    texts[ntexts].end = end;
    ntexts++;
  }
}

void clkm_unregister_module_text(int id) {
  for (int i = 0; i < ntexts; i++) {
    if (texts[i].id == id) {
      texts[i] = texts[ntexts - 1];
      ntexts--;
      return;
    }
  }
}

static int in_module_text(uint64_t pc) {
  for (int i = 0; i < ntexts; i++)
    if (pc >= texts[i].start && pc < texts[i].end) return 1;
  return 0;
}

/* Whether pc is the kernel's own code (lkmd's executable, outside the functions modules call). */
static int in_kernel_code(uint64_t pc) {
  if (pc >= (uint64_t)(uintptr_t)__start_clkm_modapi && pc < (uint64_t)(uintptr_t)__stop_clkm_modapi)
    return 0;
  return pc >= kernel_text_start && pc < kernel_text_end;
}

void clkm_set_current_module(int id) { clkm_current_module = id; }
void clkm_set_watchdog(unsigned seconds) { watchdog_seconds = seconds; }

static void arm(unsigned seconds, long nanoseconds) {
  if (!watchdog_ready) return;
  struct itimerspec its = {{0, 0}, {(time_t)seconds, nanoseconds}};
  timer_settime(watchdog_timer, 0, &its, NULL);
}

static void disarm(void) { arm(0, 0); }

static void record_context(clkm_fault_t *f, ucontext_t *uc) {
  greg_t *g = uc->uc_mcontext.gregs;
  int order[18] = {REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
                   REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
                   REG_RIP, REG_EFL};
  for (int i = 0; i < 18; i++) f->registers[i] = (uint64_t)g[order[i]];
  f->pc = (uint64_t)g[REG_RIP];
}

static void write_text(const char *s) {
  ssize_t unused = write(2, s, strlen(s));
  (void)unused;
}

static void fault_handler(int signo, siginfo_t *si, void *context) {
  ucontext_t *uc = context;
  uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  if (clkm_copy_active) {
    clkm_copy_active = 0;
    siglongjmp(*clkm_copy_jmp, 1);
  }
  if (guard_active && (in_module_text(pc) || !in_kernel_code(pc))) {
    clkm_fault_t *f = guard_fault;
    memset(f, 0, sizeof *f);
    f->kind = 1;
    f->signo = signo;
    f->code = si->si_code;
    f->address = (uint64_t)(uintptr_t)si->si_addr;
    record_context(f, uc);
    guard_active = 0;
    disarm();
    siglongjmp(*guard_jmp, 1);
  }
  char line[320];
  /* The offset in the executable, for addr2line, when the pc is in it. */
  char where[64] = "";
  if (pc >= kernel_text_start && pc < kernel_text_end)
    snprintf(where, sizeof where, " (executable+0x%llx)", (unsigned long long)(pc - kernel_base));
  snprintf(line, sizeof line,
           "lkmd: panic: kernel fault: %s at pc 0x%llx%s, address 0x%llx, outside module code\n",
           strsignal(signo), (unsigned long long)pc, where,
           (unsigned long long)(uintptr_t)si->si_addr);
  write_text(line);
  signal(signo, SIG_DFL);
  raise(signo);
  _exit(128 + signo);
}

static void watchdog_handler(int signo, siginfo_t *si, void *context) {
  (void)signo;
  (void)si;
  ucontext_t *uc = context;
  uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  if (!guard_active) return;
  if (in_module_text(pc)) {
    clkm_fault_t *f = guard_fault;
    memset(f, 0, sizeof *f);
    f->kind = 3;
    f->signo = SIGALRM;
    record_context(f, uc);
    guard_active = 0;
    siglongjmp(*guard_jmp, 1);
  }
  /* In kernel or library code on the module's behalf: try again shortly. */
  arm(0, 10 * 1000 * 1000);
}

_Noreturn void clkm_guard_panic(const char *message, void *pc) {
  if (guard_active) {
    clkm_fault_t *f = guard_fault;
    memset(f, 0, sizeof *f);
    f->kind = 2;
    /* The call instruction, not the return address: after a call to a noreturn function the
     * return address may be past the caller's end. */
    f->pc = (uint64_t)(uintptr_t)pc - 1;
    strncpy(f->message, message, sizeof f->message - 1);
    guard_active = 0;
    disarm();
    siglongjmp(*guard_jmp, 1);
  }
  char line[512];
  snprintf(line, sizeof line, "lkmd: panic: %s\n", message);
  write_text(line);
  abort();
}

int clkm_guard_active(void) { return guard_active; }

static int find_kernel_text(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  /* The first object is the executable itself. */
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      kernel_base = info->dlpi_addr;
      kernel_text_start = info->dlpi_addr + ph->p_vaddr;
      kernel_text_end = kernel_text_start + ph->p_memsz;
    }
  }
  return 1;
}

int clkm_kernel_init(const char *version_string, const char *host_name, int securelevel) {
  int error = clkm_kernel_arena_init();
  if (error) return error;
  clkm_sysent_init();
  if ((error = clkm_devices_init()) != 0) return error;
  strncpy(clkm_kd->version, version_string, sizeof clkm_kd->version - 1);
  strncpy(clkm_kd->hostname, host_name, sizeof clkm_kd->hostname - 1);
  clkm_kd->securelevel = securelevel;
  dl_iterate_phdr(find_kernel_text, NULL);
  /* The module stack, between guard pages (a write above the top faults too). */
  char *stack = mmap(NULL, MODULE_STACK_BYTES + 2 * 4096, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stack != MAP_FAILED && mprotect(stack + 4096, MODULE_STACK_BYTES, PROT_READ | PROT_WRITE) == 0) {
    module_stack_top = ((uint64_t)(uintptr_t)stack + 4096 + MODULE_STACK_BYTES) & ~(uint64_t)15;
  }

  static char altstack[256 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fault_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
  for (int i = 0; i < 4; i++) sigaction(signals[i], &sa, NULL);
  /* The mask is inherited: a parent that blocked these would disarm the containment. */
  sigset_t unblock;
  sigemptyset(&unblock);
  for (int i = 0; i < 4; i++) sigaddset(&unblock, signals[i]);
  sigaddset(&unblock, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &unblock, NULL);
  sa.sa_sigaction = watchdog_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  sigaction(SIGALRM, &sa, NULL);

  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGALRM;
  sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_MONOTONIC, &sev, &watchdog_timer) == 0) watchdog_ready = 1;
  return 0;
}

#define GUARDED(call)                          \
  sigjmp_buf jb;                               \
  memset(fault, 0, sizeof *fault);             \
  if (sigsetjmp(jb, 1)) {                      \
    guard_active = 0;                          \
    disarm();                                  \
    if (phase_word) *phase_word = CLKM_PHASE_AFTER_MODULE; \
    return 1;                                  \
  }                                            \
  guard_jmp = &jb;                             \
  guard_fault = fault;                         \
  if (phase_word) *phase_word = CLKM_PHASE_MODULE; \
  guard_active = 1;                            \
  if (watchdog_seconds) arm(watchdog_seconds, 0); \
  call;                                        \
  disarm();                                    \
  guard_active = 0;                            \
  if (phase_word) *phase_word = CLKM_PHASE_AFTER_MODULE; \
  return 0;

int clkm_call_entry(uint64_t entry, clkm_table *t, int cmd, int ver, int *result,
                    clkm_fault_t *fault) {
  GUARDED(*result = (int)module_call(entry, (uint64_t)(uintptr_t)t, (uint64_t)cmd, (uint64_t)ver))
}

int clkm_call_syscall(int n, int pid, unsigned uid, const char *comm, const int64_t *args,
                      int nargs, int *error, int64_t *retval, clkm_fault_t *fault) {
  memset(fault, 0, sizeof *fault);
  if (n < 0 || n >= CLKM_SYS_MAXSYSCALL) {
    *error = CLKM_ENOSYS;
    return 0;
  }
  static struct clkm_proc proc;
  memset(&proc, 0, sizeof proc);
  proc.p_pid = pid;
  proc.p_uid = uid;
  strncpy(proc.p_comm, comm, sizeof proc.p_comm - 1);
  static clkm_register_t argv[16];
  static clkm_register_t rv[2];
  memset(argv, 0, sizeof argv);
  rv[0] = rv[1] = 0;
  for (int i = 0; i < nargs && i < 16; i++) argv[i] = args[i];
  clkm_sy_call_t *call = clkm_kd->sysent[n].sy_call;
  if (call == NULL) {
    *error = CLKM_ENOSYS;
    return 0;
  }
  int faulted;
  {
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1)) {
      guard_active = 0;
      disarm();
      if (phase_word) *phase_word = CLKM_PHASE_AFTER_MODULE;
      faulted = 1;
      goto done;
    }
    guard_jmp = &jb;
    guard_fault = fault;
    if (phase_word) *phase_word = CLKM_PHASE_MODULE;
    guard_active = 1;
    if (watchdog_seconds) arm(watchdog_seconds, 0);
    *error = (int)module_call((uint64_t)(uintptr_t)call, (uint64_t)(uintptr_t)&proc,
                              (uint64_t)(uintptr_t)argv, (uint64_t)(uintptr_t)rv);
    disarm();
    guard_active = 0;
    if (phase_word) *phase_word = CLKM_PHASE_AFTER_MODULE;
    faulted = 0;
  }
done:
  *retval = rv[0];
  return faulted;
}

int clkm_call_resolver(uint64_t resolver, uint64_t *result, clkm_fault_t *fault) {
  GUARDED(*result = module_call(resolver, 0, 0, 0))
}

int clkm_call_void(uint64_t function, clkm_fault_t *fault) {
  GUARDED(module_call(function, 0, 0, 0))
}

/* A kernel thunk that calls module code, guarded like the calls above: 0 when it returned, 1
 * with *fault filled when the module faulted, panicked or ran into the watchdog. Not nested:
 * code already running under a guard calls module code directly. */
int clkm_guarded_call(int (*thunk)(void *), void *context, clkm_fault_t *fault) {
  /* On the module stack too: the thunk is the kernel's, what it calls is the module's. */
  GUARDED(module_call((uint64_t)(uintptr_t)thunk, (uint64_t)(uintptr_t)context, 0, 0))
}

int clkm_in_module_text(uint64_t address) { return in_module_text(address); }
