/* The execution switch: execsw with 4 empty entries for loadable interpreters, the LM_EXEC
 * handler (a port of _lkm_exec in OpenBSD's sys/kern/kern_lkm.c, with init_exec's
 * exec_maxhdrsz that only grows) and the exec itself: the file is offered to each entry's
 * es_check in table order (check_exec in sys/kern/kern_exec.c), and the accepting entry's
 * ep_entry runs the program. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_IDS 4096
static int exec_owner[CLKM_NEXECS];
static int replaced_owner[MAX_IDS];

void clkm_exec_init(void) {
  clkm_dd->nexecs = CLKM_NEXECS;
  clkm_dd->exec_maxhdrsz = 0;
  for (int i = 0; i < CLKM_NEXECS; i++) exec_owner[i] = -1;
  for (int i = 0; i < MAX_IDS; i++) replaced_owner[i] = -1;
}

/* The audit: an entry whose es_check is neither the kernel's nor a loaded module's. */
void clkm_audit_execsw(void) {
  for (int i = 0; i < CLKM_NEXECS; i++) {
    void *check = (void *)clkm_dd->execsw[i].es_check;
    if (check != NULL && !clkm_is_live_code((uint64_t)(uintptr_t)check)) {
      clkm_audit_note("execsw[%d] pointed into memory no loaded module owns: emptied", i);
      memset(&clkm_dd->execsw[i], 0, sizeof clkm_dd->execsw[i]);
      exec_owner[i] = -1;
    }
  }
}

/* init_exec: exec_maxhdrsz becomes the largest es_hdrsz (never smaller than it was). */
static void init_exec(void) {
  for (int i = 0; i < CLKM_NEXECS; i++) {
    unsigned size = clkm_dd->execsw[i].es_hdrsz;
    if (clkm_dd->execsw[i].es_check != NULL && size <= 65536 && (int)size > clkm_dd->exec_maxhdrsz)
      clkm_dd->exec_maxhdrsz = (int)size;
  }
}

int clkm_nexecs(void) { return CLKM_NEXECS; }

int clkm_execsw_state(int slot, int *owner) {
  *owner = -1;
  if (slot < 0 || slot >= CLKM_NEXECS) return -1;
  *owner = exec_owner[slot];
  return clkm_dd->execsw[slot].es_check == NULL;
}

static int in_table_image(const struct lkm_table *t, const void *p, size_t len) {
  uintptr_t a = (uintptr_t)p;
  return a >= t->area && len <= t->size && a - t->area <= t->size - len;
}

CLKM_MODAPI int clkm_exec_handler(struct lkm_table *lkmtp, int cmd) {
  struct lkm_exec *args = (struct lkm_exec *)lkmtp->private.lkm_any;
  if (!in_table_image(lkmtp, args, sizeof *args)) return CLKM_EFAULT;
  int id = lkmtp->id;
  int i;
  switch (cmd) {
  case 1: /* LKM_E_LOAD */
    if (clkm_lkmexists(lkmtp)) return CLKM_EEXIST;
    if (!in_table_image(lkmtp, args->lkm_exec, sizeof(struct clkm_execsw))) return CLKM_EFAULT;
    i = (int)args->lkm_offset;
    if (i == -1) {
      for (i = 0; i < CLKM_NEXECS; i++)
        if (clkm_dd->execsw[i].es_check == NULL) break;
    } else if (i < 0 || i >= CLKM_NEXECS) {
      return CLKM_EINVAL;
    }
    if (i == CLKM_NEXECS) return CLKM_ENFILE;
    args->lkm_oldexec = clkm_dd->execsw[i];
    clkm_dd->execsw[i] = *args->lkm_exec;
    if (id >= 0 && id < MAX_IDS) replaced_owner[id] = exec_owner[i];
    exec_owner[i] = id;
    init_exec();
    args->lkm_offset = (unsigned long)i;
    return 0;
  case 2: /* LKM_E_UNLOAD */
    i = (int)args->lkm_offset;
    if (i < 0 || i >= CLKM_NEXECS) return CLKM_EINVAL;
    {
      int previous = id >= 0 && id < MAX_IDS ? replaced_owner[id] : -1;
      const void *check = (const void *)args->lkm_oldexec.es_check;
      struct lkm_table *holder = check != NULL ? clkm_table_containing(check) : NULL;
      if (previous < 0 || (holder != NULL && holder->id == previous)) {
        clkm_dd->execsw[i] = args->lkm_oldexec;
        exec_owner[i] = previous;
      } else {
        memset(&clkm_dd->execsw[i], 0, sizeof clkm_dd->execsw[i]);
        exec_owner[i] = -1;
      }
      if (id >= 0 && id < MAX_IDS) replaced_owner[id] = -1;
    }
    init_exec();
    return 0;
  default:
    return 0;
  }
}

void clkm_exec_forget(int id) {
  for (int i = 0; i < CLKM_NEXECS; i++) {
    if (exec_owner[i] == id) {
      memset(&clkm_dd->execsw[i], 0, sizeof clkm_dd->execsw[i]);
      exec_owner[i] = -1;
    }
  }
  if (id >= 0 && id < MAX_IDS) replaced_owner[id] = -1;
}

/* ---- exec ---- */

struct xcall {
  int (*fn)(struct clkm_proc *, struct clkm_exec_package *);
  struct clkm_exec_package *epp;
  int result;
};

static int exec_thunk(void *v) {
  struct xcall *c = v;
  c->result = c->fn(clkm_current_proc(), c->epp);
  return 0;
}

/* One guarded call of fn(p, epp) on behalf of module `owner`: 0 and *result, or 1 (faulted). */
static int call(int (*fn)(struct clkm_proc *, struct clkm_exec_package *),
                struct clkm_exec_package *epp, int owner, int *result, clkm_outcome_t *out) {
  struct xcall c = {fn, epp, 0};
  int saved = clkm_current_module;
  clkm_set_current_module(owner);
  out->module = owner;
  int faulted = clkm_guarded_call(exec_thunk, &c, &out->fault);
  clkm_set_current_module(saved);
  if (faulted) {
    out->faulted = 1;
    out->error = CLKM_EFAULT;
    return 1;
  }
  *result = c.result;
  return 0;
}

void clkm_exec(const char *name, const void *image, size_t size, int argc,
               const char *const *argv, int *status, clkm_outcome_t *out) {
  memset(out, 0, sizeof *out);
  out->module = -1;
  *status = 0;
  struct clkm_exec_package ep;
  memset(&ep, 0, sizeof ep);
  size_t hdrlen = clkm_dd->exec_maxhdrsz > 0 ? (size_t)clkm_dd->exec_maxhdrsz : 0;
  char *hdr = calloc(1, hdrlen + 1);
  char *data = malloc(size + 1);
  char *file = strdup(name);
  char **args = calloc((size_t)argc + 1, sizeof *args);
  int ok = hdr != NULL && data != NULL && file != NULL && args != NULL;
  for (int i = 0; ok && i < argc; i++) ok = (args[i] = strdup(argv[i])) != NULL;
  if (!ok) {
    out->error = CLKM_ENOMEM;
    goto done;
  }
  memcpy(data, image, size);
  data[size] = 0;
  ep.ep_name = file;
  ep.ep_hdr = hdr;
  ep.ep_hdrlen = (unsigned)hdrlen;
  ep.ep_hdrvalid = (unsigned)(size < hdrlen ? size : hdrlen);
  memcpy(hdr, data, ep.ep_hdrvalid);
  ep.ep_daddr = (unsigned long)(uintptr_t)data;
  ep.ep_dsize = size;
  ep.ep_argc = argc;
  ep.ep_argv = args;

  int error = CLKM_ENOEXEC, accepted = -1;
  for (int i = 0; i < CLKM_NEXECS && accepted < 0; i++) {
    struct clkm_execsw sw = clkm_dd->execsw[i];
    if (sw.es_check == NULL) continue;
    if (!clkm_callable((void *)sw.es_check)) {
      clkm_logf("lkm: execsw[%d].es_check %p is not module code\n", i, (void *)sw.es_check);
      out->module = exec_owner[i];
      out->error = CLKM_EFAULT;
      goto done;
    }
    ep.ep_entry = 0;
    int newerror = 0;
    if (call(sw.es_check, &ep, exec_owner[i], &newerror, out)) goto done;
    /* Keep the first interesting error (kern_exec.c's check_exec). */
    if (newerror == 0 || error == CLKM_ENOEXEC) error = newerror;
    if (newerror == 0) accepted = i;
  }
  if (accepted < 0) {
    out->error = error;
    goto done;
  }
  int (*entry)(struct clkm_proc *, struct clkm_exec_package *) =
      (int (*)(struct clkm_proc *, struct clkm_exec_package *))(uintptr_t)ep.ep_entry;
  if (!clkm_callable((void *)entry)) {
    clkm_logf("lkm: execsw[%d] accepted '%s' with ep_entry %p, which is not module code\n",
              accepted, name, (void *)entry);
    out->module = exec_owner[accepted];
    out->error = CLKM_EFAULT;
    goto done;
  }
  if (call(entry, &ep, exec_owner[accepted], status, out)) goto done;
  out->error = 0;
done:
  if (args != NULL) {
    for (int i = 0; i < argc; i++) free(args[i]);
    free(args);
  }
  free(file);
  free(data);
  free(hdr);
}

size_t clkm_exec_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_DATA("execsw", clkm_dd->execsw),
      CLKM_DATA("nexecs", &clkm_dd->nexecs),
      CLKM_DATA("exec_maxhdrsz", &clkm_dd->exec_maxhdrsz),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
