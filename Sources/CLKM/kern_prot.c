/* Credentials (OpenBSD's kern_prot.c and kern_sig.c's suser): struct ucred, crget, crfree,
 * crdup, crcopy, suser, suser_ucred, and the ucred of every request.
 *
 * Ucreds are items of a pool of the kernel's (subr_pool.c), so crfree can tell a ucred it
 * handed out from anything else: crfree of another pointer, or of a ucred with no references
 * left, is a panic of the calling module. The reference count itself is the struct's cr_ref,
 * as on OpenBSD (crhold is a macro that increments it).
 *
 * Each kernel thread serves one request at a time: clkm_set_credentials (called by the Swift
 * kernel when a request starts) drops the thread's reference to the previous request's ucred
 * and gives the new request a fresh one, with the client's effective user and group and its
 * supplementary groups, in the p_ucred of the struct proc the request's calls get. A module that
 * keeps a ucred past its request takes a reference (crhold) and drops it (crfree). */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <stdio.h>
#include <string.h>

#define PR_WAITOK 0x0001
#define PR_ZERO 0x0008

static struct clkm_pool ucred_pool;

void clkm_prot_init(void) {
  int saved = clkm_current_module;
  clkm_current_module = -1; /* the kernel's pool */
  clkm_pool_init(&ucred_pool, sizeof(struct clkm_ucred), 0, 0, 0, "ucredpl", NULL);
  clkm_current_module = saved;
}

static struct clkm_ucred *new_ucred(void) {
  struct clkm_ucred *cr = clkm_pool_get_kernel(&ucred_pool, PR_WAITOK | PR_ZERO);
  cr->cr_ref = 1;
  return cr;
}

/* Drops a reference the kernel holds, if cr is still a ucred with references (a module that
 * dropped the kernel's reference itself made its own bug, not the kernel's). */
static void drop_quietly(struct clkm_ucred *cr) {
  if (cr == NULL || !clkm_pool_item_live(&ucred_pool, cr) || cr->cr_ref == 0) return;
  if (--cr->cr_ref == 0) clkm_pool_put(&ucred_pool, cr);
}

void clkm_set_credentials(unsigned uid, unsigned gid, const unsigned *groups, size_t ngroups) {
  int took = clkm_kernel_lock_take();
  drop_quietly(clkm_thread_ucred);
  struct clkm_ucred *cr = new_ucred();
  cr->cr_uid = uid;
  cr->cr_gid = gid;
  size_t n = ngroups < CLKM_NGROUPS ? ngroups : CLKM_NGROUPS;
  for (size_t i = 0; i < n; i++) cr->cr_groups[i] = groups[i];
  cr->cr_ngroups = (short)n;
  clkm_thread_ucred = cr;
  struct clkm_proc *p = clkm_current_proc();
  p->p_uid = uid;
  p->p_ucred = cr;
  if (took) clkm_kernel_unlock();
}

/* ---- For modules ---- */

CLKM_MODAPI struct clkm_ucred *clkm_crget(void) {
  int took = clkm_kernel_lock_take();
  struct clkm_ucred *cr = new_ucred();
  if (took) clkm_kernel_unlock();
  return cr;
}

_Noreturn static void refuse(int took, const char *what, const void *cr, void *pc) {
  char message[160];
  snprintf(message, sizeof message, what, (unsigned long)(uintptr_t)cr);
  if (took) clkm_kernel_unlock();
  clkm_guard_panic(message, pc);
}

static void release(struct clkm_ucred *cr, const char *call, void *pc) {
  int took = clkm_kernel_lock_take();
  char what[128];
  if (!clkm_pool_item_live(&ucred_pool, cr)) {
    snprintf(what, sizeof what, "%s: 0x%%lx is not a ucred (crget returns them), or it was freed",
             call);
    refuse(took, what, cr, pc);
  }
  if (cr->cr_ref == 0) {
    snprintf(what, sizeof what, "%s: ucred 0x%%lx has no references left", call);
    refuse(took, what, cr, pc);
  }
  if (--cr->cr_ref == 0) clkm_pool_put(&ucred_pool, cr);
  if (took) clkm_kernel_unlock();
}

CLKM_MODAPI void clkm_crfree(struct clkm_ucred *cr) {
  release(cr, "crfree", __builtin_return_address(0));
}

/* A copy of *cr (read fault-safely: any readable struct ucred will do) with one reference. */
static struct clkm_ucred *duplicate(const struct clkm_ucred *cr, const char *call, void *pc) {
  struct clkm_ucred copy;
  if (clkm_copyin(cr, &copy, sizeof copy) != 0) {
    char what[128];
    snprintf(what, sizeof what, "%s: the ucred at 0x%%lx is not readable", call);
    refuse(0, what, cr, pc);
  }
  int took = clkm_kernel_lock_take();
  struct clkm_ucred *fresh = new_ucred();
  if (took) clkm_kernel_unlock();
  *fresh = copy;
  if (fresh->cr_ngroups < 0 || fresh->cr_ngroups > CLKM_NGROUPS) fresh->cr_ngroups = CLKM_NGROUPS;
  fresh->cr_ref = 1;
  return fresh;
}

CLKM_MODAPI struct clkm_ucred *clkm_crdup(struct clkm_ucred *cr) {
  return duplicate(cr, "crdup", __builtin_return_address(0));
}

/* cr itself when the caller holds its only reference; else a copy, and the caller's reference
 * to cr dropped. */
CLKM_MODAPI struct clkm_ucred *clkm_crcopy(struct clkm_ucred *cr) {
  void *pc = __builtin_return_address(0);
  unsigned ref;
  if (clkm_copyin(&cr->cr_ref, &ref, sizeof ref) != 0)
    refuse(0, "crcopy: the ucred at 0x%lx is not readable", cr, pc);
  if (ref == 1) return cr;
  struct clkm_ucred *fresh = duplicate(cr, "crcopy", pc);
  release(cr, "crcopy", pc);
  return fresh;
}

CLKM_MODAPI int clkm_suser_ucred(struct clkm_ucred *cred) {
  unsigned uid;
  if (clkm_copyin(&cred->cr_uid, &uid, sizeof uid) != 0)
    refuse(0, "suser_ucred: the ucred at 0x%lx is not readable", cred, __builtin_return_address(0));
  return uid == 0 ? 0 : CLKM_EPERM;
}

/* 0 when the process's effective user is root, else EPERM. (OpenBSD's flags asked for no
 * accounting of the use of the privilege; there is none to do here.) */
CLKM_MODAPI int clkm_suser(struct clkm_proc *p, unsigned flags) {
  (void)flags;
  void *pc = __builtin_return_address(0);
  struct clkm_ucred *cred;
  if (clkm_copyin(&p->p_ucred, &cred, sizeof cred) != 0)
    refuse(0, "suser: 0x%lx is not a readable struct proc", p, pc);
  unsigned uid;
  if (cred == NULL) return CLKM_EPERM; /* no credentials: nobody's */
  if (clkm_copyin(&cred->cr_uid, &uid, sizeof uid) != 0)
    refuse(0, "suser: the process's p_ucred 0x%lx is not a readable ucred", cred, pc);
  return uid == 0 ? 0 : CLKM_EPERM;
}

size_t clkm_prot_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("crget", clkm_crget),   CLKM_FUNC("crfree", clkm_crfree),
      CLKM_FUNC("crdup", clkm_crdup),   CLKM_FUNC("crcopy", clkm_crcopy),
      CLKM_FUNC("suser", clkm_suser),   CLKM_FUNC("suser_ucred", clkm_suser_ucred),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
