/* Module records and the generic dispatcher: a port of OpenBSD's sys/kern/kern_lkm.c (rev 1.45)
 * lkmexists, lkm_list, lkmdispatch and _lkm_syscall, with the module's pointers checked against
 * its image before they are followed. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static struct lkm_table *lkm_head; /* sorted by id */
static clkm_type_handler_t type_handlers[5];

static int in_image(const struct lkm_table *t, const void *p, size_t len) {
  uintptr_t a = (uintptr_t)p;
  return a >= t->area && len <= t->size && a - t->area <= t->size - len;
}

/* A NUL-terminated name inside the module's image, at most 31 characters; or NULL. */
static const char *module_name(const struct lkm_table *t) {
  struct lkm_any *any = t->private.lkm_any;
  if (any == NULL || !in_image(t, any, sizeof *any)) return NULL;
  const char *name = any->lkm_name;
  if (name == NULL) return NULL;
  for (size_t i = 0; i < 32; i++) {
    if (!in_image(t, name + i, 1)) return NULL;
    if (name[i] == 0) return name;
  }
  return NULL;
}


/* The kernel's own copy of what it must trust in each record: a module is handed its
 * lkm_table and may write anywhere in it (DISPATCH writes private), so the list links, the
 * id, the image bounds and the entry are rewritten from this copy before the kernel follows
 * any of them (relink). Sorted by id. */
struct shadow {
  struct lkm_table *t;
  int id;
  unsigned long area, size;
  int (*entry)(struct lkm_table *, int, int);
};
static struct shadow *shadows;
#define RECORD_PAGE 4096
static size_t nshadows, shadow_capacity;

static void relink(void) {
  lkm_head = nshadows ? shadows[0].t : NULL;
  for (size_t i = 0; i < nshadows; i++) {
    struct lkm_table *t = shadows[i].t;
    t->id = shadows[i].id;
    t->area = shadows[i].area;
    t->size = shadows[i].size;
    t->entry = shadows[i].entry;
    t->list.tqe_next = i + 1 < nshadows ? shadows[i + 1].t : NULL;
    t->list.tqe_prev = i == 0 ? &lkm_head : &shadows[i - 1].t->list.tqe_next;
  }
}

clkm_table *clkm_table_new(int id, uint64_t area, uint64_t size, uint64_t entry, int ver) {
  if (nshadows == shadow_capacity) {
    size_t capacity = shadow_capacity ? 2 * shadow_capacity : 16;
    struct shadow *grown = realloc(shadows, capacity * sizeof *grown);
    if (grown == NULL) return NULL;
    shadows = grown;
    shadow_capacity = capacity;
  }
  /* A page of its own between two inaccessible pages, away from the heap and from any other
   * mapping: a module writing past its record (through a mangled offset) hits the rest of the
   * page or faults, instead of changing malloc's bookkeeping or the dynamic linker's data. */
  char *pages = mmap(NULL, 3 * RECORD_PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) return NULL;
  if (mprotect(pages + RECORD_PAGE, RECORD_PAGE, PROT_READ | PROT_WRITE) != 0) {
    munmap(pages, 3 * RECORD_PAGE);
    return NULL;
  }
  struct lkm_table *t = (struct lkm_table *)(pages + RECORD_PAGE);
  t->offset = size;
  t->ver = ver;
  t->sym_id = -1;
  size_t at = 0;
  while (at < nshadows && shadows[at].id < id) at++;
  memmove(&shadows[at + 1], &shadows[at], (nshadows - at) * sizeof *shadows);
  shadows[at] = (struct shadow){t, id, area, size,
                                (int (*)(struct lkm_table *, int, int))(uintptr_t)entry};
  nshadows++;
  relink();
  return t;
}

void clkm_table_free(clkm_table *t) {
  for (size_t i = 0; i < nshadows; i++) {
    if (shadows[i].t == t) {
      memmove(&shadows[i], &shadows[i + 1], (nshadows - i - 1) * sizeof *shadows);
      nshadows--;
      break;
    }
  }
  relink();
  munmap((char *)t - RECORD_PAGE, 3 * RECORD_PAGE);
}

void clkm_table_set_ready(clkm_table *t, int ready) { t->refcnt = ready ? 1 : 0; }

int clkm_table_info(const clkm_table *t, clkm_module_info_t *info) {
  memset(info, 0, sizeof *info);
  relink();
  const char *name = module_name(t);
  if (name == NULL) return CLKM_EFAULT;
  struct lkm_any *any = t->private.lkm_any;
  info->type = any->lkm_type;
  info->ver = any->lkm_ver;
  info->offset = (int64_t)any->lkm_offset;
  info->private_address = (uint64_t)(uintptr_t)any;
  strncpy(info->name, name, sizeof info->name - 1);
  return 0;
}

void clkm_set_type_handler(int type, clkm_type_handler_t handler) {
  if (type >= 0 && type < 5) type_handlers[type] = handler;
}

/* ---- Exported to modules ---- */

CLKM_MODAPI int clkm_lkm_nofunc(struct lkm_table *lkmtp, int cmd) {
  (void)lkmtp;
  (void)cmd;
  return 0;
}

/* Whether another ready module has this one's name. */
CLKM_MODAPI int clkm_lkmexists(struct lkm_table *lkmtp) {
  const char *name = module_name(lkmtp);
  if (name == NULL) return 0;
  for (struct lkm_table *p = lkm_head; p != NULL; p = p->list.tqe_next) {
    if (p == lkmtp || p->refcnt == 0) continue;
    const char *other = module_name(p);
    if (other != NULL && strcmp(other, name) == 0) return 1;
  }
  return 0;
}

CLKM_MODAPI struct lkm_table *clkm_lkm_list(struct lkm_table *p) {
  return p == NULL ? lkm_head : p->list.tqe_next;
}

static int lkm_syscall(struct lkm_table *lkmtp, int cmd) {
  struct lkm_syscall *args = lkmtp->private.lkm_syscall;
  if (!in_image(lkmtp, args, sizeof *args)) return CLKM_EFAULT;
  int i;
  switch (cmd) {
  case 1: /* LKM_E_LOAD */
    if (clkm_lkmexists(lkmtp)) return CLKM_EEXIST;
    if (!in_image(lkmtp, args->lkm_sysent, sizeof *args->lkm_sysent)) return CLKM_EFAULT;
    i = (int)args->lkm_offset;
    if (i == -1) {
      for (i = 0; i < CLKM_SYS_MAXSYSCALL; i++)
        if (clkm_kd->sysent[i].sy_call == clkm_sys_lkmnosys) break;
      if (i == CLKM_SYS_MAXSYSCALL) return CLKM_ENFILE;
    } else if (i < 0 || i >= CLKM_SYS_MAXSYSCALL) {
      return CLKM_EINVAL;
    }
    memcpy(&args->lkm_oldent, &clkm_kd->sysent[i], sizeof(struct clkm_sysent));
    memcpy(&clkm_kd->sysent[i], args->lkm_sysent, sizeof(struct clkm_sysent));
    args->lkm_offset = (unsigned long)i;
    return 0;
  case 2: /* LKM_E_UNLOAD */
    i = (int)args->lkm_offset;
    if (i < 0 || i >= CLKM_SYS_MAXSYSCALL) return CLKM_EINVAL;
    memcpy(&clkm_kd->sysent[i], &args->lkm_oldent, sizeof(struct clkm_sysent));
    return 0;
  default:
    return 0;
  }
}

/* The generic handler DISPATCH ends with. */
CLKM_MODAPI int clkm_lkmdispatch(struct lkm_table *lkmtp, int cmd) {
  struct lkm_any *any = lkmtp->private.lkm_any;
  if (!in_image(lkmtp, any, sizeof *any)) return CLKM_EFAULT;
  switch (any->lkm_type) {
  case CLKM_LM_SYSCALL:
    return lkm_syscall(lkmtp, cmd);
  case CLKM_LM_VFS:
  case CLKM_LM_DEV:
  case CLKM_LM_EXEC:
    if (cmd == 3) return 0;
    if (type_handlers[any->lkm_type] == NULL) return CLKM_ENODEV;
    return type_handlers[any->lkm_type](lkmtp, cmd);
  case CLKM_LM_MISC:
    return 0;
  default:
    return CLKM_ENXIO;
  }
}

/* ---- The table audit ---- */

static char audit_lines[8192];
static size_t audit_length;

void clkm_audit_note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = sizeof audit_lines - audit_length;
  int n = room > 1 ? vsnprintf(audit_lines + audit_length, room - 1, fmt, ap) : 0;
  va_end(ap);
  if (n < 0) return;
  audit_length += (size_t)n < room - 1 ? (size_t)n : room - 2;
  audit_lines[audit_length++] = '\n';
  audit_lines[audit_length] = 0;
}

/* The system call table as the kernel booted with it, to put a slot back. */
static struct clkm_sysent sysent_boot[CLKM_SYS_MAXSYSCALL];
static int sysent_boot_saved;

void clkm_sysent_save_boot(void) {
  memcpy(sysent_boot, clkm_kd->sysent, sizeof sysent_boot);
  sysent_boot_saved = 1;
}

void clkm_audit_sysent(void) {
  if (!sysent_boot_saved) return;
  for (int i = 0; i < CLKM_SYS_MAXSYSCALL; i++) {
    void *call = (void *)clkm_kd->sysent[i].sy_call;
    if (call == NULL || !clkm_is_live_code((uint64_t)(uintptr_t)call)) {
      clkm_audit_note("sysent[%d] pointed to 0x%llx, which no loaded module owns: restored", i,
                      (unsigned long long)(uintptr_t)call);
      clkm_kd->sysent[i] = sysent_boot[i];
    }
  }
}

void clkm_audit_begin(void) {
  audit_length = 0;
  audit_lines[0] = 0;
}

size_t clkm_audit_report(char *buf, size_t size) {
  size_t n = audit_length < size ? audit_length : size;
  if (buf != NULL) memcpy(buf, audit_lines, n);
  return n;
}

int clkm_get_securelevel(void) { return clkm_kd->securelevel; }
void clkm_set_securelevel(int level) { clkm_kd->securelevel = level; }
const char *clkm_get_hostname(void) { return clkm_kd->hostname; }
void clkm_set_hostname(const char *name) {
  strncpy(clkm_kd->hostname, name, sizeof clkm_kd->hostname - 1);
}
const char *clkm_get_version(void) { return clkm_kd->version; }
void clkm_set_time(int64_t seconds) {
  clkm_tc_windup();
  clkm_kd->time_second = seconds;
}
int clkm_nsysent(void) { return CLKM_SYS_MAXSYSCALL; }
int clkm_sysent_is_free(int n) {
  return n >= 0 && n < CLKM_SYS_MAXSYSCALL && clkm_kd->sysent[n].sy_call == clkm_sys_lkmnosys;
}
uint64_t clkm_sysent_handler(int n) {
  if (n < 0 || n >= CLKM_SYS_MAXSYSCALL) return 0;
  return (uint64_t)(uintptr_t)clkm_kd->sysent[n].sy_call;
}

/* The record of the module whose image holds [p, p + length), or NULL. */
struct lkm_table *clkm_table_containing(const void *p) {
  for (struct lkm_table *t = lkm_head; t != NULL; t = t->list.tqe_next)
    if (in_image(t, p, 1)) return t;
  return NULL;
}

/* Whether [p, p + length) lies inside one module's image. */
int clkm_in_module_image(const void *p, size_t length) {
  struct lkm_table *t = clkm_table_containing(p);
  return t != NULL && in_image(t, p, length);
}

size_t clkm_lkm_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("lkmexists", clkm_lkmexists),   CLKM_FUNC("lkm_list", clkm_lkm_list),
      CLKM_FUNC("lkmdispatch", clkm_lkmdispatch), CLKM_FUNC("lkm_nofunc", clkm_lkm_nofunc),
      CLKM_DATA("sysent", clkm_kd->sysent),     CLKM_DATA("nsysent", &clkm_kd->nsysent),
      CLKM_DATA("hz", &clkm_kd->hz),            CLKM_DATA("time_second", &clkm_kd->time_second),
      CLKM_DATA("securelevel", &clkm_kd->securelevel),
      CLKM_DATA("hostname", clkm_kd->hostname), CLKM_DATA("version", clkm_kd->version),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
