/* Traps: guarded calls into module code and the signals that end them.
 *
 * Every call into module code goes through a guarded call on the calling thread: a fault
 * (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS from the seccomp filter), a signal module
 * code raised on the kernel process itself (SIGABRT, SIGUSR1, …), a panic() or the watchdog
 * returns to the call's sigsetjmp with the fault recorded; the kernel then writes an oops and
 * fails the request. A fault in the kernel's own code is a real kernel bug: the kernel process
 * prints a panic line (to its console and to the message buffer the supervisor keeps) and dies
 * of the signal, and the supervisor reboots it.
 *
 * Guard state is per thread (module threads and kernel threads run guarded calls too), and so
 * are the module stack and the watchdog timer. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <cdebuginfo.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

__thread int clkm_current_module __attribute__((tls_model("initial-exec"))) = -1;
__thread sigjmp_buf *volatile clkm_copy_jmp __attribute__((tls_model("initial-exec")));
__thread volatile int clkm_copy_active __attribute__((tls_model("initial-exec")));
__thread struct clkm_ucred *clkm_thread_ucred __attribute__((tls_model("initial-exec")));

/* What the instruction-pointer filter's SIGSYS carries in si_errno (lkmsandbox.h). */
#define CLKM_IP_FILTER_DATA 0x4c4b

/* The functions modules call (section clkm_modapi: see CLKM_MODAPI). */
extern char __start_clkm_modapi[], __stop_clkm_modapi[];

/* ---- Modules' memory: images and text, by id ---- */

#define MAX_MODULES 1024
static struct module_range {
  int id;
  uint64_t start, end, text_end;
  uint64_t eh_frame; /* 0: none */
} ranges[MAX_MODULES];
static volatile int nranges;

void clkm_register_module(int id, const char *name, uint64_t start, uint64_t size,
                          uint64_t text_end) {
  int n = nranges;
  int at = n;
  for (int i = 0; i < n; i++)
    if (ranges[i].id == id) at = i;
  if (at == n && n == MAX_MODULES) return;
  ranges[at] = (struct module_range){id, start, start + size, text_end, 0};
  if (at == n) nranges = n + 1;
  lkm_status_remove_module(clkm_shared(), id);
  lkm_status_add_module(clkm_shared(), id, name, start, size);
}

void clkm_unregister_module(int id) {
  int n = nranges;
  for (int i = 0; i < n; i++) {
    if (ranges[i].id == id) {
      ranges[i] = ranges[n - 1];
      nranges = n - 1;
      break;
    }
  }
  lkm_status_remove_module(clkm_shared(), id);
}

void clkm_rename_module(int id, const char *name) {
  for (int i = 0; i < nranges; i++) {
    if (ranges[i].id == id) {
      lkm_status_remove_module(clkm_shared(), id);
      lkm_status_add_module(clkm_shared(), id, name, ranges[i].start,
                            ranges[i].end - ranges[i].start);
    }
  }
}

void clkm_mark_faulted(int id) { lkm_status_mark_faulted(clkm_shared(), id); }

void clkm_set_module_eh_frame(int id, uint64_t eh_frame) {
  for (int i = 0; i < nranges; i++)
    if (ranges[i].id == id && eh_frame >= ranges[i].start && eh_frame < ranges[i].end)
      ranges[i].eh_frame = eh_frame;
}

/* The id of the module whose image holds pc, or -1. */
int clkm_module_at(uint64_t pc) {
  int n = nranges;
  for (int i = 0; i < n; i++)
    if (pc >= ranges[i].start && pc < ranges[i].end) return ranges[i].id;
  return -1;
}

int clkm_in_module_text(uint64_t pc) {
  int n = nranges;
  for (int i = 0; i < n; i++)
    if (pc >= ranges[i].start && pc < ranges[i].text_end) return 1;
  return 0;
}

/* ---- The kernel's own code ---- */

static uint64_t kernel_text_start, kernel_text_end, kernel_base;

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

static int in_modapi(uint64_t pc) {
  return pc >= (uint64_t)(uintptr_t)__start_clkm_modapi &&
         pc < (uint64_t)(uintptr_t)__stop_clkm_modapi;
}

/* Whether pc is the kernel's own code (its executable, outside the functions modules call). */
static int in_kernel_code(uint64_t pc) {
  if (in_modapi(pc)) return 0;
  return pc >= kernel_text_start && pc < kernel_text_end;
}

int clkm_is_kernel_function(uint64_t address) {
  return in_modapi(address) || (address >= kernel_text_start && address < kernel_text_end);
}

/* Whether a function pointer taken from a table may be called: module text, or one of the
 * kernel's functions for modules. */
int clkm_callable(const void *function) {
  uintptr_t a = (uintptr_t)function;
  if (a == 0) return 0;
  if (a >= (uintptr_t)__start_clkm_modapi && a < (uintptr_t)__stop_clkm_modapi) return 1;
  return clkm_in_module_text(a);
}

/* The functions of the exported symbol table, sorted (kern_main.c gives them at boot): what a
 * module may put in a table the kernel calls through, besides its own code. */
static const uint64_t *export_functions;
static size_t nexport_functions;

void clkm_set_export_functions(const uint64_t *sorted, size_t n) {
  export_functions = sorted;
  nexport_functions = n;
}

int clkm_kernel_export_function(const void *fn) {
  uint64_t a = (uint64_t)(uintptr_t)fn;
  size_t lo = 0, hi = nexport_functions;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (export_functions[mid] == a) return 1;
    if (export_functions[mid] < a) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

int clkm_is_live_code(uint64_t address) {
  return clkm_is_kernel_function(address) || clkm_in_module_text(address);
}

/* ---- The process requests run for ---- */

/* Per thread: each kernel thread serves one request, for one process, at a time (kern_proc.c
 * keeps the processes; a thread that serves none runs for proc0). */
static __thread struct clkm_proc *current_proc;
static struct clkm_proc nobody = {0, 0, "kernel", NULL};

void clkm_set_current_proc(struct clkm_proc *p) { current_proc = p; }

struct clkm_proc *clkm_current_proc(void) { return current_proc != NULL ? current_proc : &nobody; }

/* ---- Per-thread guard state ---- */

#define MODULE_STACK_BYTES (8u << 20)
#define GUARD_PAGE 4096u
#define ALTSTACK_BYTES (256u * 1024u)

struct guard {
  sigjmp_buf *volatile jmp;
  volatile int active;
  clkm_fault_t *volatile fault;
  /* The module stack: [low, top), a guard page below low. */
  uint64_t stack_low, stack_top;
  int stack_tried;
  timer_t timer;
  int timer_ready;
  /* Whether the timer was last set to expire (a disarm of a disarmed timer is skipped). */
  int timer_armed;
  int altstack_ready;
  /* Whether this call has a watchdog (module threads run without one). */
  int watched;
  /* The module the call is on behalf of (counted in active_calls while it runs). */
  int module;
  /* The thread's CPU time when the watchdog was last armed, in nanoseconds. */
  uint64_t cpu_armed;
};

static __thread struct guard guard_state __attribute__((tls_model("initial-exec")));
/* Kernel code that holds a lock increments this; the watchdog does not unwind through it. */
__thread volatile int clkm_critical __attribute__((tls_model("initial-exec")));
/* What the current guarded call is, for the status page and oopses. */
static __thread char activity[64] __attribute__((tls_model("initial-exec")));

static unsigned watchdog_seconds = 10;
/* Where guarded calls record whether module code is running (the sandbox's shared page). */
static volatile int32_t *phase_word;

void clkm_set_phase_word(int32_t *word) { phase_word = word; }
void clkm_set_watchdog(unsigned seconds) { watchdog_seconds = seconds; }
unsigned clkm_get_watchdog(void) { return watchdog_seconds; }
void clkm_set_current_module(int id) { clkm_current_module = id; }
void clkm_set_activity(const char *what) {
  strncpy(activity, what, sizeof activity - 1);
  activity[sizeof activity - 1] = 0;
}

static void thread_altstack(struct guard *g) {
  if (g->altstack_ready) return;
  void *stack = mmap(NULL, ALTSTACK_BYTES, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (stack == MAP_FAILED) return;
  stack_t ss = {.ss_sp = stack, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) == 0) g->altstack_ready = 1;
}

/* The thread's module stack, between guard pages (a write above the top faults too); mapped
 * on the thread's first guarded call. 0 if it cannot be. */
static uint64_t module_stack(struct guard *g) {
  if (g->stack_top == 0 && !g->stack_tried) {
    g->stack_tried = 1;
    /* One mapping, its guard pages guard regions (Linux 6.13; see kern_malloc.c), or three
     * with PROT_NONE guard pages where the system has none. */
    char *stack = mmap(NULL, MODULE_STACK_BYTES + 2 * GUARD_PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (stack != MAP_FAILED &&
        clkm_guard_pages(stack, GUARD_PAGE) == 0 &&
        clkm_guard_pages(stack + GUARD_PAGE + MODULE_STACK_BYTES, GUARD_PAGE) == 0) {
      g->stack_low = (uint64_t)(uintptr_t)stack + GUARD_PAGE;
      g->stack_top = (g->stack_low + MODULE_STACK_BYTES) & ~(uint64_t)15;
    }
  }
  return g->stack_top;
}

static void thread_timer(struct guard *g) {
  if (g->timer_ready) return;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGALRM;
  sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
  if (timer_create(CLOCK_MONOTONIC, &sev, &g->timer) == 0) g->timer_ready = 1;
}

/* Module code runs on a stack of its own, through clkm_isolated_call: the kernel's frames are
 * not below the module's stack pointer for it to overwrite, and the callee-saved registers,
 * the stack pointer, MXCSR and the x87 control word the kernel had are restored from a
 * per-thread save area when the call returns, whatever the module did to them (a module that
 * breaks the ABI would otherwise crash the kernel after it returned: modfuzz found such
 * modules). Module code starts with its arguments and stack pointer only: every other general
 * register is zero, so that no kernel pointer is left in one for mangled code to write
 * through. The save area is thread-local (initial-exec: %fs-relative). */
__thread uint64_t clkm_isolated_saved[4] __attribute__((tls_model("initial-exec")));
uint64_t clkm_isolated_call(uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t stack);
__asm__(".text\n"
        ".globl clkm_isolated_call\n"
        ".type clkm_isolated_call,@function\n"
        "clkm_isolated_call:\n"
        "  .cfi_startproc\n"
        "  push %rbp\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  .cfi_offset %rbp, -16\n"
        "  push %rbx\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  .cfi_offset %rbx, -24\n"
        "  push %r12\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  .cfi_offset %r12, -32\n"
        "  push %r13\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  .cfi_offset %r13, -40\n"
        "  push %r14\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  .cfi_offset %r14, -48\n"
        "  push %r15\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  .cfi_offset %r15, -56\n"
        "  movq clkm_isolated_saved@gottpoff(%rip), %rax\n"
        "  mov %rsp, %fs:(%rax)\n"
        "  stmxcsr %fs:8(%rax)\n"
        "  fnstcw %fs:16(%rax)\n"
        "  mov %rdi, %r11\n"
        "  mov %rsi, %rdi\n"
        "  mov %rdx, %rsi\n"
        "  mov %rcx, %rdx\n"
        /* The kernel's stack pointer goes to the top of the module stack (twice: the stack
         * stays 16-byte aligned), for debuggers: the CFA is *(rsp + 8) + 56 from here on
         * (DW_CFA_def_cfa_expression: DW_OP_breg7 8, DW_OP_deref, DW_OP_plus_uconst 56). The
         * return path restores the stack pointer from the save area, never from there. */
        "  mov %rsp, %rax\n"
        "  mov %r8, %rsp\n"
        "  push %rax\n"
        "  push %rax\n"
        "  .cfi_escape 0x0f, 0x05, 0x77, 0x08, 0x06, 0x23, 0x38\n"
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
        "clkm_isolated_call_return:\n"
        "  movq clkm_isolated_saved@gottpoff(%rip), %r11\n"
        "  mov %fs:(%r11), %rsp\n"
        "  .cfi_def_cfa %rsp, 56\n"
        "  ldmxcsr %fs:8(%r11)\n"
        "  fldcw %fs:16(%r11)\n"
        "  cld\n"
        "  pop %r15\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  pop %r14\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  pop %r13\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  pop %r12\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  pop %rbx\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  pop %rbp\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size clkm_isolated_call, .-clkm_isolated_call\n");
/* Where module code returns to in clkm_isolated_call: a call trace ends there. */
extern char clkm_isolated_call_return[];

/* fn(a0, a1, a2) on the thread's module stack (or directly, if it could not be mapped). A
 * nested call (already on the module stack: module code called the kernel, which calls module
 * code again) goes on below the current frame. */
static uint64_t module_call(struct guard *g, uint64_t fn, uint64_t a0, uint64_t a1, uint64_t a2) {
  uint64_t top = module_stack(g);
  if (top == 0) return ((uint64_t(*)(uint64_t, uint64_t, uint64_t))(uintptr_t)fn)(a0, a1, a2);
  uint64_t sp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  if (sp > g->stack_low && sp <= g->stack_top) {
    if (sp - g->stack_low < 16384) {
      /* No room left: as if the module had overflowed its stack. */
      clkm_guard_panic("kernel stack exhausted by nested module calls", __builtin_return_address(0));
    }
    top = (sp - 512) & ~(uint64_t)15;
  }
  return clkm_isolated_call(fn, a0, a1, a2, top);
}

/* ---- The watchdog ---- */

static void arm(struct guard *g, unsigned seconds, long nanoseconds) {
  if (!g->timer_ready) return;
  int expires = seconds != 0 || nanoseconds != 0;
  if (!expires && !g->timer_armed) return;
  struct itimerspec its = {{0, 0}, {(time_t)seconds, nanoseconds}};
  if (timer_settime(g->timer, 0, &its, NULL) == 0) g->timer_armed = expires;
}

/* A forked child has none of its parent's timers (the sandbox's fork server forks children
 * that run guarded calls): the thread that forked makes its own on its next guarded call. */
static void forget_timer_after_fork(void) {
  guard_state.timer_ready = 0;
  guard_state.timer_armed = 0;
}

static void disarm(struct guard *g) { arm(g, 0, 0); }

/* ---- Call traces ---- */

/* Reads memory for the unwinder: a fault while copying ends the copy (the recovery point of
 * copy(9)), so that a trace through a corrupt stack stops instead of faulting the kernel. */
static int safe_read(void *context, uint64_t address, void *out, size_t size) {
  (void)context;
  if (address == 0 || address + size < address) return -1;
  sigjmp_buf jb;
  sigjmp_buf *volatile saved = clkm_copy_jmp;
  volatile int was_active = clkm_copy_active;
  if (sigsetjmp(jb, 0)) {
    clkm_copy_jmp = saved;
    clkm_copy_active = was_active;
    return -1;
  }
  clkm_copy_jmp = &jb;
  clkm_copy_active = 1;
  const volatile unsigned char *from = (const volatile unsigned char *)(uintptr_t)address;
  unsigned char *to = out;
  for (size_t i = 0; i < size; i++) to[i] = from[i];
  clkm_copy_active = was_active;
  clkm_copy_jmp = saved;
  return 0;
}

struct phdr_search {
  uint64_t pc, hdr;
  int found;
};

static int find_eh_frame_hdr(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct phdr_search *q = data;
  int inside = 0;
  uint64_t hdr = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uint64_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && q->pc >= start && q->pc - start < ph->p_memsz) inside = 1;
    if (ph->p_type == PT_GNU_EH_FRAME) hdr = start;
  }
  if (!inside) return 0;
  q->hdr = hdr;
  q->found = 1;
  return 1;
}

/* The CFI for pc: a module's .eh_frame (searched up to its image's end), or the .eh_frame_hdr
 * of the kernel's executable or library that holds pc. */
static int find_cfi(void *context, uint64_t pc, uint64_t *hdr, uint64_t *start, uint64_t *end) {
  (void)context;
  int n = nranges;
  for (int i = 0; i < n; i++) {
    if (pc >= ranges[i].start && pc < ranges[i].end) {
      if (ranges[i].eh_frame == 0) return -1;
      *hdr = 0;
      *start = ranges[i].eh_frame;
      *end = ranges[i].end;
      return 0;
    }
  }
  struct phdr_search q = {pc, 0, 0};
  dl_iterate_phdr(find_eh_frame_hdr, &q);
  if (!q.found || q.hdr == 0) return -1;
  *hdr = q.hdr;
  return 0;
}

/* Fills f->trace from the registers recorded in f: the faulting pc, then each caller's return
 * address, unwound over the CFI, while the stack pointer rises, until the frame that
 * clkm_isolated_call entered (or CLKM_TRACE_MAX). With `skip_to` (a panic: the registers are
 * clkm_guard_panic's own), frames up to the one returning to skip_to are left out. Runs after
 * the guarded call ended, outside the signal handler: the module stack is as the fault left it. */
static void capture_trace(clkm_fault_t *f, uint64_t skip_to) {
  static const int from[CDI_REGS] = {0, 3, 2, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  cdi_regs_t r;
  for (int i = 0; i < CDI_REGS; i++) r.value[i] = f->registers[from[i]];
  r.known = (1u << CDI_REGS) - 1;
  f->trace[0] = f->pc;
  f->trace_depth = 1;
  if (r.value[CDI_PC] == 0) return;
  cdi_memory_t memory = {safe_read, find_cfi, NULL};
  int exact = skip_to == 0;
  int skipping = skip_to != 0;
  uint64_t sp = r.value[CDI_RSP];
  for (int steps = 0; steps < 4 * CLKM_TRACE_MAX && f->trace_depth < CLKM_TRACE_MAX; steps++) {
    if (!cdi_unwind_step(&memory, &r, exact)) break;
    exact = 0;
    uint64_t pc = r.value[CDI_PC];
    if (pc == (uint64_t)(uintptr_t)clkm_isolated_call_return) break;
    if (r.value[CDI_RSP] <= sp) break;
    sp = r.value[CDI_RSP];
    if (skipping) {
      if (pc == skip_to) skipping = 0;
      continue;
    }
    f->trace[f->trace_depth++] = pc;
  }
}

/* ---- Readers of module input ---- */

static __thread sigjmp_buf *volatile reader_jmp __attribute__((tls_model("initial-exec")));
static __thread volatile int reader_active __attribute__((tls_model("initial-exec")));

/* ---- Signals ---- */

static uint64_t thread_cpu_nanoseconds(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct text_search {
  uint64_t address;
  char path[512];
  uint64_t offset;
  int found;
};

static int find_file_offset(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct text_search *q = data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uint64_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || q->address < start ||
        q->address - start >= ph->p_filesz)
      continue;
    const char *name = info->dlpi_name != NULL && info->dlpi_name[0] ? info->dlpi_name : "/proc/self/exe";
    size_t n = strlen(name);
    if (n >= sizeof q->path) return 1;
    memcpy(q->path, name, n + 1);
    q->offset = ph->p_offset + (q->address - start);
    q->found = 1;
    return 1;
  }
  return 0;
}

/* An int3 a debugger left in the code of the kernel's executable or a library when it went
 * (killed before it could take its breakpoints out: gdb's own internal ones are in kernel code,
 * __jit_debug_register_code among them): the byte is put back from the file the code was
 * mapped from, and the instruction runs again. 1 when it was put back. */
static int restore_breakpoint(uint64_t address) {
  if (*(volatile unsigned char *)(uintptr_t)address != 0xcc || cdi_traced()) return 0;
  struct text_search q;
  memset(&q, 0, sizeof q);
  q.address = address;
  dl_iterate_phdr(find_file_offset, &q);
  if (!q.found) return 0;
  int fd = open(q.path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned char original;
  ssize_t n = pread(fd, &original, 1, (off_t)q.offset);
  close(fd);
  if (n != 1 || original == 0xcc) return 0;
  uintptr_t page = (uintptr_t)address & ~(uintptr_t)4095;
  if (mprotect((void *)page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return 0;
  *(volatile unsigned char *)(uintptr_t)address = original;
  mprotect((void *)page, 4096, PROT_READ | PROT_EXEC);
  return 1;
}

static void record_context(clkm_fault_t *f, ucontext_t *uc) {
  greg_t *r = uc->uc_mcontext.gregs;
  int order[18] = {REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
                   REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
                   REG_RIP, REG_EFL};
  for (int i = 0; i < 18; i++) f->registers[i] = (uint64_t)r[order[i]];
  f->pc = (uint64_t)r[REG_RIP];
}

static void write_text(int fd, const char *s) {
  ssize_t unused = write(fd, s, strlen(s));
  (void)unused;
}

/* Ends the thread's guarded call with *f (already filled in): back to its sigsetjmp. */
_Noreturn static void end_guarded_call(struct guard *g) {
  g->active = 0;
  /* A call that ends in the middle of a copy (the watchdog in copyin) leaves no stale
   * recovery point behind. */
  clkm_copy_active = 0;
  disarm(g);
  siglongjmp(*g->jmp, 1);
}

static int synchronous(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
         signo == SIGTRAP || signo == SIGSYS;
}

/* A fault in the kernel's own code: a kernel bug, or a module that corrupted the kernel.
 * The line goes to stderr and the message buffer (which the supervisor keeps); then the
 * process dies of the signal and is rebooted. */
static __thread volatile int in_kernel_panic __attribute__((tls_model("initial-exec")));

_Noreturn static void kernel_panic_signal(int signo, siginfo_t *si, uint64_t pc) {
  if (in_kernel_panic) {
    /* Faulted again while saying why (the kernel's tables the message reads are what the
     * module corrupted): die of the signal without a word more. */
    signal(signo, SIG_DFL);
    sigset_t again;
    sigemptyset(&again);
    sigaddset(&again, signo);
    pthread_sigmask(SIG_UNBLOCK, &again, NULL);
    raise(signo);
    _exit(128 + signo);
  }
  in_kernel_panic = 1;
  char line[400];
  char where[96] = "";
  if (pc >= kernel_text_start && pc < kernel_text_end)
    snprintf(where, sizeof where, " (executable+0x%llx)", (unsigned long long)(pc - kernel_base));
  int module = clkm_module_at(pc);
  char owner[64] = ", outside any module";
  if (module >= 0) snprintf(owner, sizeof owner, ", in module id %d", module);
  snprintf(line, sizeof line, "panic: kernel fault: %s at pc 0x%llx%s, address 0x%llx%s\n",
           strsignal(signo), (unsigned long long)pc, where,
           (unsigned long long)(uintptr_t)si->si_addr, owner);
  clkm_msgbuf_append(line, strlen(line));
  write_text(2, "lkm-kernel: ");
  write_text(2, line);
  signal(signo, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signo);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  raise(signo);
  _exit(128 + signo);
}

static void on_signal(int signo, siginfo_t *si, void *context) {
  struct guard *g = &guard_state;
  ucontext_t *uc = context;
  uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
  int kernel_generated = si->si_code > 0;
  if (clkm_copy_active && (signo == SIGSEGV || signo == SIGBUS) && kernel_generated) {
    clkm_copy_active = 0;
    siglongjmp(*clkm_copy_jmp, 1);
  }
  int self_raised = (si->si_code == SI_USER || si->si_code == SI_TKILL || si->si_code == SI_QUEUE) &&
                    si->si_pid == getpid();
  if (reader_active && ((synchronous(signo) && kernel_generated) ||
                        (signo == SIGALRM && si->si_code == SI_TIMER))) {
    /* A reader of module input (DWARF) faulted or ran too long: end it, not the kernel. */
    reader_active = 0;
    siglongjmp(*reader_jmp, 1);
  }
  if (signo == SIGTRAP && kernel_generated && pc > 0 && clkm_module_at(pc - 1) < 0 &&
      in_kernel_code(pc - 1) && restore_breakpoint(pc - 1)) {
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(pc - 1);
    char line[160];
    snprintf(line, sizeof line, "lkm: a debugger's breakpoint left at 0x%llx removed\n",
             (unsigned long long)(pc - 1));
    clkm_msgbuf_append(line, strlen(line));
    return;
  }
  if (signo == SIGSYS && si->si_code == 1 /* SYS_SECCOMP */ && si->si_errno != CLKM_IP_FILTER_DATA) {
    /* The kernel process's own filter denied a call made by the kernel's code or the C
     * library (on a module's behalf, --host-symbols): the call fails with EPERM, as if the
     * kernel had refused it, and the library stays consistent (a fork that unwound through
     * glibc's atfork handlers would leave its locks held). */
    char line[200];
    int module = g->active ? g->module : clkm_current_module;
    snprintf(line, sizeof line,
             "lkm: system call %d denied to the kernel process (module id %d): EPERM\n",
             si->si_syscall, module);
    clkm_msgbuf_append(line, strlen(line));
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
    return;
  }
  if (synchronous(signo) && kernel_generated) {
    /* SIGSYS from the instruction-pointer filter: the call is at si_call_addr. */
    if (signo == SIGSYS && si->si_code == 1 /* SYS_SECCOMP */)
      pc = (uint64_t)(uintptr_t)si->si_call_addr;
    if (g->active && (clkm_module_at(pc) >= 0 || !in_kernel_code(pc))) {
      clkm_fault_t *f = g->fault;
      memset(f, 0, sizeof *f);
      f->kind = 1;
      f->signo = signo;
      f->code = si->si_code;
      f->address = (uint64_t)(uintptr_t)si->si_addr;
      f->syscall = signo == SIGSYS && si->si_code == 1 ? si->si_syscall : -1;
      f->from_module = signo == SIGSYS && si->si_code == 1 && si->si_errno == CLKM_IP_FILTER_DATA;
      record_context(f, uc);
      f->pc = pc;
      /* A fault in the guard page below the module stack: the stack overflowed. */
      uint64_t address = f->address;
      if ((signo == SIGSEGV || signo == SIGBUS) && g->stack_low != 0 &&
          address >= g->stack_low - GUARD_PAGE && address < g->stack_low)
        f->stack_depth = g->stack_top - address;
      end_guarded_call(g);
    }
    kernel_panic_signal(signo, si, pc);
  }
  if (signo == SIGALRM && si->si_code == SI_TIMER) {
    /* The watchdog of this thread's guarded call. */
    if (!g->active || !g->watched) return;
    /* A debugger holds the process (a breakpoint, single steps), or held it: the thread was
     * stopped rather than running module code (under a tenth of the period on the CPU; the
     * timer's signal may be delivered only as the debugger detaches). The watchdog counts
     * again from now. */
    uint64_t cpu = thread_cpu_nanoseconds();
    if (cdi_traced() || cpu - g->cpu_armed < (uint64_t)watchdog_seconds * 100000000u) {
      g->cpu_armed = cpu;
      arm(g, watchdog_seconds ? watchdog_seconds : 1, 0);
      return;
    }
    int module_code = clkm_module_at(pc) >= 0;
    int kernel_for_module = in_modapi(pc) && clkm_critical == 0;
    if (module_code || kernel_for_module) {
      clkm_fault_t *f = g->fault;
      memset(f, 0, sizeof *f);
      f->kind = 3;
      f->signo = SIGALRM;
      f->syscall = -1;
      record_context(f, uc);
      end_guarded_call(g);
    }
    /* In a lock or in the C library on the module's behalf: unwinding could leave a lock
     * held. Try again shortly; the supervisor's hang limit covers a call that never comes
     * back. */
    arm(g, 0, 10 * 1000 * 1000);
    return;
  }
  if (self_raised && g->active) {
    /* Module code (or the C library on its behalf, --host-symbols) raised a signal on the
     * kernel process: abort(), raise(SIGUSR1), kill(getpid(), …). */
    clkm_fault_t *f = g->fault;
    memset(f, 0, sizeof *f);
    f->kind = 1;
    f->signo = signo;
    f->code = si->si_code;
    f->raised = 1;
    f->syscall = -1;
    record_context(f, uc);
    end_guarded_call(g);
  }
  if (signo == SIGABRT && self_raised) {
    /* The kernel's own abort(): die of it (abort() re-raises once the handler returns). */
    signal(SIGABRT, SIG_DFL);
    return;
  }
  /* A signal from elsewhere, or raised outside any module call: noted and ignored. */
  char line[160];
  snprintf(line, sizeof line, "lkm: %s (code %d, from pid %d) ignored\n", strsignal(signo),
           si->si_code, (int)si->si_pid);
  clkm_msgbuf_append(line, strlen(line));
}

_Noreturn void clkm_guard_panic(const char *message, void *pc) {
  struct guard *g = &guard_state;
  if (g->active) {
    clkm_fault_t *f = g->fault;
    memset(f, 0, sizeof *f);
    f->kind = 2;
    f->syscall = -1;
    /* The call instruction, not the return address: after a call to a noreturn function the
     * return address may be past the caller's end. */
    f->pc = (uint64_t)(uintptr_t)pc - 1;
    strncpy(f->message, message, sizeof f->message - 1);
    /* Where the kernel is now, for the call trace (from here up to the module's call). */
    ucontext_t here;
    if (getcontext(&here) == 0) {
      record_context(f, &here);
      f->pc = (uint64_t)(uintptr_t)pc - 1;
      f->stack_depth = (uint64_t)(uintptr_t)pc; /* the return address, until the trace */
    }
    end_guarded_call(g);
  }
  char line[512];
  snprintf(line, sizeof line, "panic: %s\n", message);
  clkm_msgbuf_append(line, strlen(line));
  write_text(2, "lkm-kernel: ");
  write_text(2, line);
  abort();
}

int clkm_guard_active(void) { return guard_state.active; }

/* The signals the kernel handles: every synchronous fault, and every signal whose default
 * action would end or stop the process, so that module code raising one on the kernel is an
 * oops. SIGKILL and SIGSTOP cannot be caught: the supervisor's hang limit covers a stop. */
static const int handled[] = {SIGSEGV, SIGBUS,  SIGILL,  SIGFPE,    SIGTRAP,  SIGSYS, SIGABRT,
                              SIGHUP,  SIGINT,  SIGQUIT, SIGUSR1,   SIGUSR2,  SIGTERM, SIGALRM,
                              SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGSTKFLT, SIGIO, SIGPWR,
                              SIGTSTP, SIGTTIN, SIGTTOU};

static void asynchronous_set(sigset_t *set);
static void forget_timer_after_fork(void);
static void register_atfork(void) { pthread_atfork(NULL, NULL, forget_timer_after_fork); }

void clkm_trap_init(void) {
  static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
  pthread_once(&atfork_once, register_atfork);
  dl_iterate_phdr(find_kernel_text, NULL);
  struct guard *g = &guard_state;
  module_stack(g);
  thread_altstack(g);
  thread_timer(g);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigset_t unblock;
  sigemptyset(&unblock);
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) {
    sigaction(handled[i], &sa, NULL);
    sigaddset(&unblock, handled[i]);
  }
  signal(SIGPIPE, SIG_IGN);
  /* The mask is inherited: a parent that blocked these would disarm the containment. */
  sigprocmask(SIG_UNBLOCK, &unblock, NULL);
  /* Outside guarded calls, the signals module code could raise on the whole process are
   * blocked (see asynchronous_set). */
  sigset_t set;
  asynchronous_set(&set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Prepares this thread for guarded calls (kernel threads and module threads call it first). */
void clkm_thread_init(void) {
  struct guard *g = &guard_state;
  thread_altstack(g);
  thread_timer(g);
  sigset_t set;
  asynchronous_set(&set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* How many threads are in a call into each module's code (asleep in it, for one): a module
 * cannot go while one is. */
#define MAX_ACTIVE 4096
static int active_calls[MAX_ACTIVE];

int clkm_module_active_calls(int id) {
  if (id < 0 || id >= MAX_ACTIVE) return 0;
  return __atomic_load_n(&active_calls[id], __ATOMIC_ACQUIRE);
}

static void count_call(int id, int delta) {
  if (id >= 0 && id < MAX_ACTIVE) __atomic_fetch_add(&active_calls[id], delta, __ATOMIC_ACQ_REL);
}

void clkm_watchdog_pause(void) {
  struct guard *g = &guard_state;
  if (g->active) disarm(g);
}

void clkm_watchdog_resume(void) {
  struct guard *g = &guard_state;
  if (g->active && g->watched && watchdog_seconds) arm(g, watchdog_seconds, 0);
}

/* Signals module code may raise on the kernel process as a whole (kill(getpid(), …)): blocked
 * in every thread but those in a guarded call, so that the kernel delivers them to the thread
 * whose module code runs. */
static const int asynchronous[] = {SIGHUP,  SIGINT,    SIGQUIT, SIGUSR1,  SIGUSR2, SIGTERM,
                                   SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGSTKFLT, SIGIO,
                                   SIGPWR,  SIGTSTP,   SIGTTIN, SIGTTOU};

static void asynchronous_set(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < sizeof asynchronous / sizeof asynchronous[0]; i++)
    sigaddset(set, asynchronous[i]);
}

/* What an enclosing guarded call had, kept while a nested one runs: module code called a
 * kernel function that calls module code (a module's system call calling the one it wraps, a
 * stacked file system calling VOP_* on the one below). The nested call gets a watchdog period
 * of its own; the enclosing one gets a fresh period back when it ends. */
struct outer {
  int nested;
  sigjmp_buf *jmp;
  clkm_fault_t *fault;
  int watched;
  int module;
  int current_module;
  uint64_t isolated[4];
  char activity[64];
};

static void enter(struct guard *g, sigjmp_buf *jb, clkm_fault_t *fault, int watched,
                  struct outer *o) {
  /* Module code may read thread-local variables of modules loaded since this thread last ran
   * module code: their initial values first. */
  clkm_tls_refresh();
  o->nested = g->active;
  if (o->nested) {
    disarm(g);
    o->jmp = g->jmp;
    o->fault = g->fault;
    o->watched = g->watched;
    o->module = g->module;
    o->current_module = clkm_current_module;
    memcpy(o->isolated, clkm_isolated_saved, sizeof o->isolated);
    memcpy(o->activity, activity, sizeof o->activity);
  }
  g->module = watched ? clkm_current_module : -1;
  count_call(g->module, 1);
  sigset_t set;
  asynchronous_set(&set);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  g->jmp = jb;
  g->fault = fault;
  g->watched = watched;
  if (phase_word) *phase_word = CLKM_PHASE_MODULE;
  lkm_status_enter(clkm_shared(), clkm_current_module, activity, 1);
  g->active = 1;
  if (watched && watchdog_seconds) {
    g->cpu_armed = thread_cpu_nanoseconds();
    arm(g, watchdog_seconds, 0);
  }
}

static void leave(struct guard *g, struct outer *o) {
  disarm(g);
  g->active = 0;
  count_call(g->module, -1);
  if (o->nested) {
    /* Back in the enclosing call: its module code runs again when this returns. */
    g->jmp = o->jmp;
    g->fault = o->fault;
    g->watched = o->watched;
    g->module = o->module;
    memcpy(clkm_isolated_saved, o->isolated, sizeof o->isolated);
    memcpy(activity, o->activity, sizeof activity);
    if (phase_word) *phase_word = CLKM_PHASE_MODULE;
    lkm_status_enter(clkm_shared(), o->current_module, activity, 1);
    g->active = 1;
    if (g->watched && watchdog_seconds) {
      g->cpu_armed = thread_cpu_nanoseconds();
      arm(g, watchdog_seconds, 0);
    }
    return;
  }
  sigset_t set;
  asynchronous_set(&set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  if (phase_word) *phase_word = CLKM_PHASE_AFTER_MODULE;
  lkm_status_enter(clkm_shared(), clkm_current_module, NULL, 0);
}

/* The trace of a call that ended with a fault. */
static void trace_fault(clkm_fault_t *fault) {
  uint64_t skip_to = 0;
  if (fault->kind == 2) {
    skip_to = fault->stack_depth;
    fault->stack_depth = 0;
  }
  capture_trace(fault, skip_to);
}

/* The watchdog of a guarded call the reader runs under (a load through ioctl(2) is one), put
 * back after the reader with the time the reader took subtracted (at least 1 ns left, so that
 * a call already past its limit is still interrupted). */
static void restore_watchdog(struct guard *g, const struct itimerspec *saved,
                             const struct timespec *start) {
  if (!g->timer_ready) return;
  if (saved->it_value.tv_sec == 0 && saved->it_value.tv_nsec == 0) {
    disarm(g);
    return;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long left = (long long)saved->it_value.tv_sec * 1000000000LL + saved->it_value.tv_nsec -
                   ((long long)(now.tv_sec - start->tv_sec) * 1000000000LL +
                    (now.tv_nsec - start->tv_nsec));
  if (left < 1) left = 1;
  arm(g, (unsigned)(left / 1000000000LL), (long)(left % 1000000000LL));
}

int clkm_call_reader(int (*reader)(void *), void *context, unsigned seconds) {
  struct guard *g = &guard_state;
  if (reader_active) return -1;
  thread_timer(g);
  /* Under a guarded call (an oops written during a load that came through ioctl(2)): its
   * watchdog is paused for the reader and resumed after. */
  int nested = g->active;
  struct itimerspec saved;
  struct timespec start;
  memset(&saved, 0, sizeof saved);
  if (nested && g->timer_ready) timer_gettime(g->timer, &saved);
  clock_gettime(CLOCK_MONOTONIC, &start);
  sigjmp_buf jb;
  if (sigsetjmp(jb, 1)) {
    reader_active = 0;
    if (nested) restore_watchdog(g, &saved, &start);
    else disarm(g);
    return -1;
  }
  reader_jmp = &jb;
  reader_active = 1;
  arm(g, seconds, 0);
  int result = reader(context);
  reader_active = 0;
  if (nested) restore_watchdog(g, &saved, &start);
  else disarm(g);
  return result;
}

#define GUARDED(watched, call)                 \
  struct guard *g = &guard_state;              \
  sigjmp_buf jb;                               \
  struct outer outer;                          \
  memset(fault, 0, sizeof *fault);             \
  fault->syscall = -1;                         \
  thread_timer(g);                             \
  if (sigsetjmp(jb, 1)) {                      \
    leave(g, &outer);                          \
    trace_fault(fault);                        \
    return 1;                                  \
  }                                            \
  enter(g, &jb, fault, watched, &outer);       \
  call;                                        \
  leave(g, &outer);                            \
  return 0;

int clkm_call_entry(uint64_t entry, clkm_table *t, int cmd, int ver, int *result,
                    clkm_fault_t *fault) {
  GUARDED(1, *result = (int)module_call(g, entry, (uint64_t)(uintptr_t)t, (uint64_t)cmd, (uint64_t)ver))
}

static int call_syscall(clkm_sy_call_t *call, struct clkm_proc *proc, clkm_register_t *argv,
                        clkm_register_t *rv, int *error, clkm_fault_t *fault) {
  GUARDED(1, *error = (int)module_call(g, (uint64_t)(uintptr_t)call, (uint64_t)(uintptr_t)proc,
                                       (uint64_t)(uintptr_t)argv, (uint64_t)(uintptr_t)rv))
}

int clkm_call_syscall(int n, const int64_t *args, int nargs, int *error, int64_t *retval,
                      clkm_fault_t *fault) {
  memset(fault, 0, sizeof *fault);
  fault->syscall = -1;
  retval[0] = retval[1] = 0;
  if (n < 0 || n >= CLKM_SYS_MAXSYSCALL) {
    *error = CLKM_ENOSYS;
    return 0;
  }
  /* The process's credentials, for this request (kern_prot.c). */
  clkm_current_proc()->p_ucred = clkm_thread_ucred;
  static __thread clkm_register_t argv[16];
  static __thread clkm_register_t rv[2];
  rv[0] = rv[1] = 0;
  memset(argv, 0, sizeof argv);
  for (int i = 0; i < nargs && i < 16; i++) argv[i] = args[i];
  clkm_sy_call_t *call = clkm_kd->sysent[n].sy_call;
  /* Only the kernel's code or a loaded module's: anything else was left by a module that has
   * gone (the audit put it back before this call; this is the last line). */
  if (call == NULL || !clkm_is_live_code((uint64_t)(uintptr_t)call)) {
    *error = CLKM_ENOSYS;
    return 0;
  }
  /* The kernel's own system calls run unguarded: the module code they reach (a driver, a
   * file system's operation, a module's entry under ioctl) is guarded where it is called, as
   * the first guarded call of the thread. A module's handler runs guarded. */
  int faulted = 0;
  if (clkm_module_at((uint64_t)(uintptr_t)call) < 0)
    *error = call(clkm_current_proc(), argv, rv);
  else
    faulted = call_syscall(call, clkm_current_proc(), argv, rv, error, fault);
  retval[0] = rv[0];
  retval[1] = rv[1];
  return faulted;
}


int clkm_call_timeout(uint64_t function, uint64_t argument, clkm_fault_t *fault) {
  GUARDED(1, module_call(g, function, argument, 0, 0))
}

int clkm_call_resolver(uint64_t resolver, uint64_t *result, clkm_fault_t *fault) {
  GUARDED(1, *result = module_call(g, resolver, 0, 0, 0))
}

int clkm_call_void(uint64_t function, clkm_fault_t *fault) {
  GUARDED(1, module_call(g, function, 0, 0, 0))
}

/* A kernel thunk that calls module code, guarded like the calls above: 0 when it returned, 1
 * with *fault filled when the module faulted, panicked or ran into the watchdog. May be nested
 * (module code called the kernel function that makes this call): the fault is then this
 * call's, and the enclosing call goes on. */
int clkm_guarded_call(int (*thunk)(void *), void *context, clkm_fault_t *fault) {
  /* On the module stack too: the thunk is the kernel's, what it calls is the module's. */
  GUARDED(1, module_call(g, (uint64_t)(uintptr_t)thunk, (uint64_t)(uintptr_t)context, 0, 0))
}

/* ---- Threads modules start (--host-symbols: pthread_create is interposed) ---- */

#define MAX_THREAD_OWNERS 4096
static int thread_counts[MAX_THREAD_OWNERS];
static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static void thread_ended(void *value) {
  int id = (int)(intptr_t)value - 1;
  if (id >= 0 && id < MAX_THREAD_OWNERS) __atomic_fetch_sub(&thread_counts[id], 1, __ATOMIC_ACQ_REL);
}

static void make_thread_key(void) { pthread_key_create(&thread_key, thread_ended); }

int clkm_module_thread_count(int id) {
  if (id < 0 || id >= MAX_THREAD_OWNERS) return 0;
  return __atomic_load_n(&thread_counts[id], __ATOMIC_ACQUIRE);
}

struct thread_start {
  uint64_t function;
  uint64_t argument;
  int module;
};

static int run_thread(struct thread_start *s, uint64_t *result, clkm_fault_t *fault) {
  GUARDED(0, *result = module_call(g, s->function, s->argument, 0, 0))
}

/* Module faults per module id, for what the C side runs on its own (timeouts, module threads):
 * the Swift kernel shows the module faulted. */
static unsigned char faulted_modules[MAX_ACTIVE];

int clkm_module_faulted_in_c(int id) { return id >= 0 && id < MAX_ACTIVE && faulted_modules[id]; }

/* An oops for a fault in a call the C side made on its own: a timeout, a thread a module
 * started. The module is named from the status the supervisor reads. */
void clkm_report_fault(const clkm_fault_t *fault, int module, const char *during) {
  char name[40] = "?";
  uint32_t n = lkm_status_module_count(clkm_shared());
  for (uint32_t i = 0; i < n; i++) {
    lkm_status_module_t m;
    if (lkm_status_module_at(clkm_shared(), i, &m) == 0 && m.id == module)
      snprintf(name, sizeof name, "%s", m.name);
  }
  char what[320];
  switch (fault->kind) {
  case 2:
    snprintf(what, sizeof what, "panic: %s", fault->message);
    break;
  case 3:
    snprintf(what, sizeof what, "watchdog: ran longer than the watchdog allows (%u s)", watchdog_seconds);
    break;
  default:
    snprintf(what, sizeof what, "SIG%s at address 0x%llx", sigabbrev_np(fault->signo),
             (unsigned long long)fault->address);
  }
  int owner = clkm_module_at(fault->pc);
  char where[64];
  if (owner >= 0) snprintf(where, sizeof where, "in module id %d", owner);
  else snprintf(where, sizeof where, "outside any module");
  char text[1024];
  int len = snprintf(text, sizeof text,
                     "oops: module '%s' (id %d) during %s: %s, pc 0x%llx %s\n"
                     "  rsp 0x%llx  rip 0x%llx\nkernel tainted\n",
                     name, module, during, what, (unsigned long long)fault->pc, where,
                     (unsigned long long)fault->registers[7], (unsigned long long)fault->registers[16]);
  if (len > 0) clkm_print_text(text, (size_t)len < sizeof text ? (size_t)len : sizeof text - 1);
  if (module >= 0 && module < MAX_ACTIVE) faulted_modules[module] = 1;
  clkm_mark_faulted(module);
}

void clkm_clear_fault_mark(int id) {
  if (id >= 0 && id < MAX_ACTIVE) faulted_modules[id] = 0;
}

static void *module_thread_main(void *p) {
  struct thread_start s = *(struct thread_start *)p;
  free(p);
  clkm_current_module = s.module;
  pthread_setspecific(thread_key, (void *)(intptr_t)(s.module + 1));
  clkm_thread_init();
  clkm_set_activity("a thread it started");
  clkm_fault_t fault;
  uint64_t result = 0;
  if (run_thread(&s, &result, &fault)) clkm_report_fault(&fault, s.module, "a thread it started");
  return (void *)(uintptr_t)result;
}

/* pthread_create for module code: the thread runs guarded (a fault ends the thread with an
 * oops, not the kernel) and is counted, so that its module cannot be unloaded under it. */
CLKM_MODAPI int clkm_module_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                                           void *(*function)(void *), void *argument) {
  pthread_once(&thread_key_once, make_thread_key);
  int module = clkm_current_module;
  struct thread_start *s = malloc(sizeof *s);
  if (s == NULL) return EAGAIN;
  s->function = (uint64_t)(uintptr_t)function;
  s->argument = (uint64_t)(uintptr_t)argument;
  s->module = module;
  if (module >= 0 && module < MAX_THREAD_OWNERS)
    __atomic_fetch_add(&thread_counts[module], 1, __ATOMIC_ACQ_REL);
  int rc = pthread_create(thread, attr, module_thread_main, s);
  if (rc != 0) {
    if (module >= 0 && module < MAX_THREAD_OWNERS)
      __atomic_fetch_sub(&thread_counts[module], 1, __ATOMIC_ACQ_REL);
    free(s);
  }
  return rc;
}

/* The host functions a module gets the kernel's version of (--host-symbols). */
const clkm_export_t *clkm_host_interpositions(size_t *count) {
  static const clkm_export_t table[] = {
      {"pthread_create", (void *)clkm_module_pthread_create, 1},
  };
  *count = sizeof table / sizeof table[0];
  return table;
}

/* "libc.so.6: memcpy+0x1f" for an address outside modules, from dladdr. */
int clkm_describe_address(uint64_t address, char *buf, size_t size) {
  Dl_info info;
  if (dladdr((void *)(uintptr_t)address, &info) == 0 || info.dli_fname == NULL) return 0;
  const char *file = strrchr(info.dli_fname, '/');
  file = file ? file + 1 : info.dli_fname;
  if (info.dli_sname != NULL && info.dli_saddr != NULL) {
    snprintf(buf, size, "%s: %s+0x%llx", file, info.dli_sname,
             (unsigned long long)(address - (uint64_t)(uintptr_t)info.dli_saddr));
  } else {
    snprintf(buf, size, "%s+0x%llx", file,
             (unsigned long long)(address - (uint64_t)(uintptr_t)info.dli_fbase));
  }
  return 1;
}

/* ---- Module calls deep in the kernel ---- */

/* The oopses of module calls made under a request (a VOP_READ under read(2), a driver's d_open
 * under open(2)), kept per thread until the request ends and the kernel reports them. */
#define PENDING_MAX 8
struct pending {
  clkm_fault_t fault;
  int module;
  char during[160];
};
static __thread struct pending *pending;
static __thread int npending;

int clkm_module_call(int module, int (*thunk)(void *), void *context) {
  int saved = clkm_current_module;
  clkm_set_current_module(module);
  char during[160];
  strncpy(during, activity, sizeof during - 1);
  during[sizeof during - 1] = 0;
  clkm_fault_t fault;
  int faulted = clkm_guarded_call(thunk, context, &fault);
  clkm_set_current_module(saved);
  if (!faulted) return 0;
  if (module >= 0 && module < MAX_ACTIVE) faulted_modules[module] = 1;
  if (pending == NULL) pending = calloc(PENDING_MAX, sizeof *pending);
  if (pending != NULL && npending < PENDING_MAX) {
    struct pending *p = &pending[npending++];
    p->fault = fault;
    p->module = module;
    memcpy(p->during, during, sizeof p->during);
  } else {
    /* More than the request can report: written here, without the module's name. */
    clkm_report_fault(&fault, module, during);
  }
  return CLKM_EFAULT;
}

int clkm_take_pending_oops(clkm_fault_t *fault, int *module, char *during, size_t size) {
  if (npending == 0 || pending == NULL) return 0;
  struct pending *p = &pending[0];
  *fault = p->fault;
  *module = p->module;
  strncpy(during, p->during, size - 1);
  during[size - 1] = 0;
  memmove(&pending[0], &pending[1], (size_t)(npending - 1) * sizeof *pending);
  npending--;
  return 1;
}
