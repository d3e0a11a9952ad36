/* CMsgbuf: the memory the kernel process shares with its supervisor (one memory file both
 * map): the message buffer, which survives kernel reboots as OpenBSD's msgbuf survives a warm
 * reboot, and the kernel's status (the loaded modules and the module whose code runs), from
 * which the supervisor writes a crash report when the kernel process dies.
 *
 * The kernel process, and therefore module code, can write all of it: the supervisor reads it
 * defensively (every index taken modulo the buffer, every string bounded). Our symbols are
 * lkm_shared_* and lkm_msgbuf_*. */
#ifndef LKMSHARED_H
#define LKMSHARED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LKM_SHARED_MAGIC 0x534d4b4cu /* "LKMS" */
#define LKM_MSGBUF_SIZE (256u * 1024u)
#define LKM_STATUS_MODULES 64
#define LKM_STATUS_NAME 32
#define LKM_STATUS_WHAT 64
#define LKM_MSGBUF_STAMPS 8192

/* When a write to the message buffer that begins a line, or holds the start of one, was made:
 * the stream position of its first byte and its length, and the time (CLOCK_REALTIME). The
 * check word is a function of the other fields, stored last: a record half-written, or
 * overwritten by module code, does not match it and is ignored. */
typedef struct lkm_msgbuf_stamp {
  uint64_t at;
  int64_t ns;
  uint32_t length;
  uint32_t check;
} lkm_msgbuf_stamp_t;

/* A loaded module as the crash report lists it. */
typedef struct lkm_status_module {
  int32_t id;
  int32_t faulted;
  uint64_t base;
  uint64_t size;
  char name[LKM_STATUS_NAME];
} lkm_status_module_t;

typedef struct lkm_shared {
  uint32_t magic;
  uint32_t size; /* sizeof(struct lkm_shared), for a sanity check */
  /* Bytes ever written to the message buffer; byte i lives at msg[i % LKM_MSGBUF_SIZE]. */
  uint64_t msg_written;
  char msg[LKM_MSGBUF_SIZE];
  /* The kernel's status. */
  int32_t kernel_pid;
  int32_t boots;
  /* The module whose code the kernel entered last (-1: none) and whether it is still running
   * (1) or returned (0); what the call was. */
  int32_t entered_module;
  int32_t entered_running;
  char entered_what[LKM_STATUS_WHAT];
  char entered_name[LKM_STATUS_NAME];
  uint32_t nmodules;
  uint32_t reserved;
  lkm_status_module_t modules[LKM_STATUS_MODULES];
  /* The big kernel lock: since when (CLOCK_MONOTONIC nanoseconds) a thread has held it without
   * letting go (0: free), so that the supervisor can tell a kernel stuck with its lock from one
   * whose threads sleep. */
  uint64_t lock_since;
  /* When lines were written (lkmctl dmesg -T): a ring of records, record i of all ever made at
   * stamps[i % LKM_MSGBUF_STAMPS]. Only writes that begin or hold a line start are recorded. */
  uint64_t stamps_written;
  lkm_msgbuf_stamp_t stamps[LKM_MSGBUF_STAMPS];
} lkm_shared_t;

/* The size to map. */
size_t lkm_shared_size(void);

/* Makes a fresh shared area (magic, size, empty buffer, no modules). */
void lkm_shared_init(lkm_shared_t *_Nonnull shared);

/* lkm_shared_init for an area that reads as zeros already (a fresh anonymous mapping): writes
 * only the header, so that the area's pages stay untouched (not resident) until used. */
void lkm_shared_init_zeroed(lkm_shared_t *_Nonnull shared);

/* Whether the area still carries its magic and size (a module may have overwritten them). */
int lkm_shared_valid(const lkm_shared_t *_Nonnull shared);

/* Appends n bytes to the message buffer; safe against concurrent writers in any process that
 * maps it (the write position is reserved atomically). A write that begins a line (the byte
 * before it is a newline, or it is the first) or holds the start of one gets a time record. */
void lkm_msgbuf_write(lkm_shared_t *_Nonnull shared, const char *_Nonnull text, size_t n);

/* Copies the last min(size, what the buffer holds) bytes into buf, oldest first; returns the
 * number copied. With buf NULL, returns how many it would copy. */
size_t lkm_msgbuf_read(const lkm_shared_t *_Nonnull shared, char *_Nullable buf, size_t size);

/* As lkm_msgbuf_read, and stores in *from the stream position of buf[0] (bytes ever written
 * before it). */
size_t lkm_msgbuf_read_from(const lkm_shared_t *_Nonnull shared, char *_Nullable buf,
                            size_t size, uint64_t *_Nonnull from);

/* Copies into out (at most n) the time records that are whole (their check word matches) and
 * overlap the stream positions [from, to), sorted by position; returns how many. Everything is
 * read from memory module code may have written: nothing in it is trusted beyond that. */
size_t lkm_msgbuf_stamps(const lkm_shared_t *_Nonnull shared, uint64_t from, uint64_t to,
                         lkm_msgbuf_stamp_t *_Nonnull out, size_t n);

/* The check word of a record (exposed for tests that forge records). */
uint32_t lkm_msgbuf_stamp_check(uint64_t at, int64_t ns, uint32_t length);

/* The kernel's status, for the kernel process to keep current. */
void lkm_status_clear(lkm_shared_t *_Nonnull shared, int32_t kernel_pid);
void lkm_status_add_module(lkm_shared_t *_Nonnull shared, int32_t id,
                           const char *_Nonnull name, uint64_t base, uint64_t size);
void lkm_status_remove_module(lkm_shared_t *_Nonnull shared, int32_t id);
void lkm_status_mark_faulted(lkm_shared_t *_Nonnull shared, int32_t id);
/* Records that module code of `id` (-1: unknown) is entered for `what` (running 1) or that
 * the call is back (running 0; what may be NULL). */
void lkm_status_enter(lkm_shared_t *_Nonnull shared, int32_t id, const char *_Nullable what,
                      int running);

/* The kernel took (1) or let go of (0) its big lock. */
void lkm_status_lock(lkm_shared_t *_Nonnull shared, int taken);
/* Since when the lock has been held (CLOCK_MONOTONIC ns), or 0. */
uint64_t lkm_status_lock_since(const lkm_shared_t *_Nonnull shared);

/* Bounded copies of the status for the supervisor: the number of modules (at most
 * LKM_STATUS_MODULES), and module i with its name NUL-terminated. */
uint32_t lkm_status_module_count(const lkm_shared_t *_Nonnull shared);
int lkm_status_module_at(const lkm_shared_t *_Nonnull shared, uint32_t i,
                         lkm_status_module_t *_Nonnull out);
/* The last entered module id, whether it was running, and `what` (NUL-terminated). */
void lkm_status_entered(const lkm_shared_t *_Nonnull shared, int32_t *_Nonnull id,
                        int32_t *_Nonnull running, char *_Nonnull what, size_t what_size,
                        char *_Nonnull name, size_t name_size);

#ifdef __cplusplus
}
#endif
#endif
