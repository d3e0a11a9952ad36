/* The kernel's printf engine and the functions modules format with: printf, vprintf, uprintf,
 * log, puts, putchar, snprintf, vsnprintf, panic. Written for lkm after the conversions of
 * OpenBSD's kprintf (sys/kern/subr_prf.c), including its %b bit-field format; glibc's printf is
 * never run on a module's format or arguments.
 *
 * Bounds (so that no call runs unbounded or allocates):
 *  - a field width or precision is at most CLKM_PRF_MAX_FIELD (4096); larger ones are clamped;
 *  - one call produces at most CLKM_PRF_MAX_OUTPUT (8192) bytes, formatted into a buffer on the
 *    caller's stack; the rest is dropped, and snprintf/vsnprintf return the length of the output
 *    so bounded (C's semantics within the cap: the bytes the call produced, however few fitted);
 *  - at most CLKM_PRF_MAX_FORMAT (65536) bytes of a format are read.
 * Module memory (the format, %s strings, %b's bit names) is read only through a bounded,
 * fault-safe copy, as copyinstr reads it: a NULL %s prints "(null)", an unreadable one
 * "(bad address)", an unreadable format "(bad address)" where it stops being readable.
 *
 * Conversions: d i o u x X c s p % b, and n (its pointer is taken and nothing is written); flags
 * - + space # 0; width and precision, * included; length modifiers hh h l ll q j z t. Anything
 * else prints the conversion character, as kprintf does. %b takes an unsigned int (or the
 * modifier's type) and a string: the output base as its first character (8, 10 or 16; another
 * base prints the value in hex and ignores the names), then, for each bit, its number (1-32 as a
 * character of that value, or 0x80 + a number from 0 for bits 0-127) and its name; the value is
 * followed by "<NAME,NAME>" listing the set bits, so printf("reg=%b\n", 3, "\10\2BITTWO\1BITONE")
 * prints "reg=3<BITTWO,BITONE>". */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <setjmp.h>
#include <stdarg.h>
#include <string.h>


/* The engine's helpers live with the functions modules call (section clkm_modapi), inlined or
 * not: a fault in them (a module's bogus va_list, its stack running out under the output
 * buffer) is charged to the calling module, as a fault in printf itself is. */
#define PRF static inline __attribute__((section("clkm_modapi")))

/* Copies a NUL-terminated module string into dst, at most max bytes, stopping after the NUL
 * (not copied). Returns the bytes copied; *bad is set if src stopped being readable first
 * (the bytes before that are copied), *ended if the NUL was found. The copy is a critical
 * section (at most CLKM_PRF_MAX_OUTPUT bytes): the watchdog does not unwind it halfway, which
 * would leave clkm_copy_active set. */
PRF size_t fetch_string(const char *src, char *dst, size_t max, int *bad, int *ended) {
  sigjmp_buf jb;
  volatile size_t done = 0;
  *bad = 0;
  *ended = 0;
  clkm_critical_enter();
  if (sigsetjmp(jb, 1)) {
    clkm_copy_active = 0;
    clkm_critical_leave();
    *bad = 1;
    return done;
  }
  clkm_copy_jmp = &jb;
  clkm_copy_active = 1;
  const volatile char *from = src;
  size_t i = 0;
  for (; i < max; i++) {
    char c = from[i];
    if (c == 0) {
      *ended = 1;
      break;
    }
    dst[i] = c;
    done = i + 1;
  }
  clkm_copy_active = 0;
  clkm_critical_leave();
  return i;
}

/* The output of one call. */
struct out {
  char *buf; /* CLKM_PRF_MAX_OUTPUT bytes */
  size_t len;
};

PRF size_t room(const struct out *o) { return CLKM_PRF_MAX_OUTPUT - o->len; }

PRF void put(struct out *o, char c) {
  if (o->len < CLKM_PRF_MAX_OUTPUT) o->buf[o->len++] = c;
}

PRF void put_bytes(struct out *o, const char *s, size_t n) {
  if (n > room(o)) n = room(o);
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}

PRF void put_repeated(struct out *o, char c, long n) {
  if (n <= 0) return;
  if ((size_t)n > room(o)) n = (long)room(o);
  memset(o->buf + o->len, c, (size_t)n);
  o->len += (size_t)n;
}

/* The format, read through windows of fault-safe copies. */
struct format {
  const char *src;
  size_t at;          /* offset of window[0] in src */
  size_t next, count; /* position in and length of the window */
  int ended, bad;     /* the NUL or an unreadable byte ends the window */
  char window[256];
};

/* The next character of the format; 0 at its end. *bad says an unreadable byte ended it. */
PRF int next_char(struct format *f) {
  if (f->next == f->count) {
    if (f->ended || f->bad || f->at + f->count >= CLKM_PRF_MAX_FORMAT) return 0;
    f->at += f->count;
    f->next = 0;
    f->count = fetch_string(f->src + f->at, f->window, sizeof f->window, &f->bad, &f->ended);
    if (f->count == 0) return 0;
  }
  return (unsigned char)f->window[f->next++];
}

enum { LEFT = 1, PLUS = 2, SPACE = 4, ALT = 8, ZERO = 16 };
enum { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

PRF unsigned long long unsigned_arg(va_list *ap, int length) {
  switch (length) {
  case LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned);
  case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned);
  case LEN_INT: return va_arg(*ap, unsigned);
  default: return va_arg(*ap, unsigned long long);
  }
}

PRF long long signed_arg(va_list *ap, int length) {
  switch (length) {
  case LEN_CHAR: return (signed char)va_arg(*ap, int);
  case LEN_SHORT: return (short)va_arg(*ap, int);
  case LEN_INT: return va_arg(*ap, int);
  default: return va_arg(*ap, long long);
  }
}

/* A field: sign or prefix, zeros from the precision, the digits or text, padded to width. */
PRF void put_field(struct out *o, int flags, long width, const char *prefix, long zeros,
                    const char *text, size_t n) {
  size_t plen = strlen(prefix);
  long size = (long)plen + (zeros > 0 ? zeros : 0) + (long)n;
  long pad = width - size;
  if (!(flags & (LEFT | ZERO))) put_repeated(o, ' ', pad);
  put_bytes(o, prefix, plen);
  if ((flags & (LEFT | ZERO)) == ZERO) put_repeated(o, '0', pad);
  put_repeated(o, '0', zeros);
  put_bytes(o, text, n);
  if (flags & LEFT) put_repeated(o, ' ', pad);
}

/* Digits of v in base (8, 10 or 16), written backwards from end; returns the first. */
PRF char *digits(unsigned long long v, unsigned base, int upper, char *end) {
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char *p = end;
  do {
    *--p = set[v % base];
    v /= base;
  } while (v != 0);
  return p;
}

/* A module string (%s): NULL, unreadable or at most max bytes. */
PRF void put_string(struct out *o, int flags, long width, long precision, const char *s) {
  if (s == NULL) {
    s = "(null)";
  } else {
    /* Fetched straight into the output, then moved right if the field is right-adjusted. */
    size_t max = room(o);
    if (precision >= 0 && (size_t)precision < max) max = (size_t)precision;
    int bad, ended;
    size_t n = fetch_string(s, o->buf + o->len, max, &bad, &ended);
    if (!bad) {
      long pad = width - (long)n;
      if (pad > 0 && !(flags & LEFT)) {
        size_t shift = (size_t)pad < room(o) ? (size_t)pad : room(o);
        size_t keep = n < room(o) - shift ? n : room(o) - shift;
        memmove(o->buf + o->len + shift, o->buf + o->len, keep);
        memset(o->buf + o->len, (flags & ZERO) ? '0' : ' ', shift);
        o->len += shift + keep;
      } else {
        o->len += n;
        if (flags & LEFT) put_repeated(o, ' ', pad);
      }
      return;
    }
    s = "(bad address)";
  }
  size_t n = strlen(s);
  if (precision >= 0 && (size_t)precision < n) n = (size_t)precision;
  put_field(o, flags & (LEFT | ZERO), width, "", 0, s, n);
}

/* %b: the value in the string's base, then <NAME,...> for the bits set. */
PRF void put_bits(struct out *o, unsigned long long v, const char *spec) {
  char names[512];
  int bad = 0, ended = 0;
  size_t n = spec ? fetch_string(spec, names, sizeof names - 1, &bad, &ended) : 0;
  if (spec == NULL || bad) {
    put_bytes(o, spec ? "(bad address)" : "(null)", spec ? 13 : 6);
    return;
  }
  names[n] = 0;
  char number[32];
  unsigned base = n > 0 ? (unsigned char)names[0] : 0;
  int known = base == 8 || base == 10 || base == 16;
  char *end = number + sizeof number;
  char *first = digits(v, known ? base : 16, 0, end);
  put_bytes(o, first, (size_t)(end - first));
  if (!known || v == 0) return;
  int any = 0;
  const unsigned char *b = (const unsigned char *)names + 1;
  unsigned bit;
  while ((bit = *b++) != 0) {
    if (bit & 0x80) bit &= 0x7f;
    else if (bit <= ' ') bit -= 1;
    int set = bit < 64 && (v & (1ull << bit));
    if (set) put(o, any ? ',' : '<');
    while (*b > ' ' && !(*b & 0x80)) {
      if (set) put(o, (char)*b);
      b++;
    }
    any |= set;
  }
  if (any) put(o, '>');
}

PRF long clamp_field(long v) { return v > CLKM_PRF_MAX_FIELD ? CLKM_PRF_MAX_FIELD : v; }

CLKM_MODAPI size_t clkm_format_text(char *buf, const char *fmt, va_list ap0) {
  struct out o = {buf, 0};
  va_list ap;
  va_copy(ap, ap0);
  struct format f = {.src = fmt};
  if (fmt == NULL) {
    put_bytes(&o, "(null)", 6);
    va_end(ap);
    return o.len;
  }
  int c;
  while (room(&o) > 0 && (c = next_char(&f)) != 0) {
    if (c != '%') {
      put(&o, (char)c);
      continue;
    }
    int flags = 0, length = LEN_INT;
    long width = 0, precision = -1;
    c = next_char(&f);
    for (;; c = next_char(&f)) {
      if (c == '-') flags |= LEFT;
      else if (c == '+') flags |= PLUS;
      else if (c == ' ') flags |= SPACE;
      else if (c == '#') flags |= ALT;
      else if (c == '0') flags |= ZERO;
      else break;
    }
    if (c == '*') {
      long w = va_arg(ap, int);
      if (w < 0) {
        flags |= LEFT;
        w = -w;
      }
      width = clamp_field(w);
      c = next_char(&f);
    } else {
      for (; c >= '0' && c <= '9'; c = next_char(&f)) width = clamp_field(width * 10 + (c - '0'));
    }
    if (c == '.') {
      c = next_char(&f);
      if (c == '*') {
        long p = va_arg(ap, int);
        precision = p < 0 ? -1 : clamp_field(p);
        c = next_char(&f);
      } else {
        precision = 0;
        for (; c >= '0' && c <= '9'; c = next_char(&f))
          precision = clamp_field(precision * 10 + (c - '0'));
      }
    }
    for (;; c = next_char(&f)) {
      if (c == 'h') length = length == LEN_SHORT ? LEN_CHAR : LEN_SHORT;
      else if (c == 'l') length = length == LEN_LONG ? LEN_LLONG : LEN_LONG;
      else if (c == 'q' || c == 'j') length = LEN_LLONG;
      else if (c == 'z' || c == 't') length = LEN_SIZE;
      else break;
    }
    char number[72];
    char *end = number + sizeof number;
    switch (c) {
    case 0:
      goto done;
    case 'd':
    case 'i': {
      long long v = signed_arg(&ap, length);
      unsigned long long magnitude = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
      const char *sign = v < 0 ? "-" : (flags & PLUS) ? "+" : (flags & SPACE) ? " " : "";
      char *first = magnitude == 0 && precision == 0 ? end : digits(magnitude, 10, 0, end);
      long n = end - first;
      if (precision >= 0) flags &= ~ZERO;
      put_field(&o, flags, width, sign, precision - n, first, (size_t)n);
      break;
    }
    case 'o':
    case 'u':
    case 'x':
    case 'X':
    case 'p': {
      unsigned long long v;
      const char *prefix = "";
      unsigned base = c == 'o' ? 8 : c == 'u' ? 10 : 16;
      if (c == 'p') {
        v = (unsigned long long)(uintptr_t)va_arg(ap, void *);
        prefix = "0x";
      } else {
        v = unsigned_arg(&ap, length);
        if ((flags & ALT) && v != 0 && base == 16) prefix = c == 'X' ? "0X" : "0x";
      }
      char *first = v == 0 && precision == 0 ? end : digits(v, base, c == 'X', end);
      if (c == 'o' && (flags & ALT) && (first == end || *first != '0')) *--first = '0';
      long n = end - first;
      if (precision >= 0) flags &= ~ZERO;
      put_field(&o, flags, width, prefix, precision - n, first, (size_t)n);
      break;
    }
    case 'c': {
      char ch = (char)va_arg(ap, int);
      put_field(&o, flags & (LEFT | ZERO), width, "", 0, &ch, 1);
      break;
    }
    case 's':
      put_string(&o, flags, width, precision, va_arg(ap, const char *));
      break;
    case 'b': {
      unsigned long long v = unsigned_arg(&ap, length);
      put_bits(&o, v, va_arg(ap, const char *));
      break;
    }
    case 'n':
      (void)va_arg(ap, void *); /* never written: a module's pointer */
      break;
    default: {
      char ch = (char)c;
      put_field(&o, flags & (LEFT | ZERO), width, "", 0, &ch, 1);
      break;
    }
    }
  }
done:
  if (f.bad) put_bytes(&o, "(bad address)", 13);
  va_end(ap);
  return o.len;
}

/* ---- The functions modules call ---- */

CLKM_MODAPI int clkm_vprintf(const char *fmt, va_list ap) {
  char text[CLKM_PRF_MAX_OUTPUT];
  size_t n = clkm_format_text(text, fmt, ap);
  clkm_print_text(text, n);
  return (int)n;
}

CLKM_MODAPI int clkm_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = clkm_vprintf(fmt, ap);
  va_end(ap);
  return n;
}

CLKM_MODAPI int clkm_puts(const char *s) {
  clkm_printf("%s\n", s);
  return 1;
}

CLKM_MODAPI int clkm_putchar(int c) {
  char ch = (char)c;
  clkm_print_text(&ch, 1);
  return c & 0xff;
}

CLKM_MODAPI void clkm_uprintf(const char *fmt, ...) {
  char text[CLKM_PRF_MAX_OUTPUT];
  va_list ap;
  va_start(ap, fmt);
  size_t n = clkm_format_text(text, fmt, ap);
  va_end(ap);
  clkm_print_user(text, n);
}

CLKM_MODAPI void clkm_log(int level, const char *fmt, ...) {
  static const char *const names[] = {"emerg", "alert", "crit", "err",
                                      "warning", "notice", "info", "debug"};
  char text[CLKM_PRF_MAX_OUTPUT + 16];
  const char *name = names[level & 7];
  size_t p = strlen(name);
  text[0] = '<';
  memcpy(text + 1, name, p);
  text[p + 1] = '>';
  text[p + 2] = ' ';
  va_list ap;
  va_start(ap, fmt);
  size_t n = clkm_format_text(text + p + 3, fmt, ap);
  va_end(ap);
  clkm_print_text(text, p + 3 + n);
}

CLKM_MODAPI int clkm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  char text[CLKM_PRF_MAX_OUTPUT];
  size_t n = clkm_format_text(text, fmt, ap);
  if (size > 0) {
    size_t copy = n < size - 1 ? n : size - 1;
    memcpy(buf, text, copy);
    buf[copy] = 0;
  }
  return (int)n;
}

CLKM_MODAPI int clkm_snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = clkm_vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

CLKM_MODAPI _Noreturn void clkm_panic(const char *fmt, ...) {
  char message[256];
  va_list ap;
  va_start(ap, fmt);
  clkm_vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  clkm_guard_panic(message, __builtin_return_address(0));
}

size_t clkm_prf_exports(clkm_export_t *table, size_t room) {
  const clkm_export_t list[] = {
      CLKM_FUNC("printf", clkm_printf),     CLKM_FUNC("vprintf", clkm_vprintf),
      CLKM_FUNC("uprintf", clkm_uprintf),   CLKM_FUNC("log", clkm_log),
      CLKM_FUNC("panic", clkm_panic),       CLKM_FUNC("puts", clkm_puts),
      CLKM_FUNC("putchar", clkm_putchar),   CLKM_FUNC("snprintf", clkm_snprintf),
      CLKM_FUNC("vsnprintf", clkm_vsnprintf),
  };
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
