/* The kernel's undefined behaviour sanitizer runtime, as OpenBSD's kubsan: a module compiled
 * with -fsanitize=undefined (gcc or clang) calls these handlers where its code does something
 * undefined; each reports the source location and what happened on the console and in the
 * message buffer, once per location, and the module goes on (as it would have without the
 * sanitizer). `kubsan: hello.c:12:5: signed integer overflow: 2147483647 + 1 cannot be
 * represented in type 'int'`.
 *
 * The handlers with no way to go on (reaching __builtin_unreachable, the end of a function
 * that returns a value, and the _abort variants of -fno-sanitize-recover) report, then panic:
 * an oops of the module, which fails the request.
 *
 * Everything a handler reads (the compiler's descriptions, the type names, the file name) is
 * module memory: the handlers run in the section whose faults are charged to the calling
 * module, and format through the kernel's printf, which reads strings safely. */
#define _GNU_SOURCE
#include "clkm_internal.h"

#include <string.h>

/* The compiler's descriptions (the ABI of gcc's and clang's -fsanitize=undefined). */
struct ub_location {
  const char *file;
  uint32_t line; /* the top bit marks a location already reported */
  uint32_t column;
};
struct ub_type {
  uint16_t kind; /* 0 integer, 1 floating point, 0xffff other */
  uint16_t info; /* integer: log2(bit width) << 1 | signed */
  char name[];   /* quoted: 'int' */
};
struct ub_overflow {
  struct ub_location where;
  struct ub_type *type;
};
struct ub_shift {
  struct ub_location where;
  struct ub_type *left;
  struct ub_type *right;
};
struct ub_bounds {
  struct ub_location where;
  struct ub_type *array;
  struct ub_type *index;
};
struct ub_mismatch {
  struct ub_location where;
  struct ub_type *type;
  uint8_t log_alignment;
  uint8_t kind;
};
struct ub_only_location {
  struct ub_location where;
};
struct ub_value {
  struct ub_location where;
  struct ub_type *type;
};
struct ub_nonnull_arg {
  struct ub_location where;
  struct ub_location attribute;
  int index;
};
struct ub_cast {
  struct ub_location where;
  struct ub_type *from;
  struct ub_type *to;
};
struct ub_builtin {
  struct ub_location where;
  uint8_t kind;
};
struct ub_alignment {
  struct ub_location where;
  struct ub_location assumption;
  struct ub_type *type;
};

#define REPORTED 0x80000000u

/* Marks the location reported; whether it had been. */
static int reported(struct ub_location *where) {
  uint32_t line = __atomic_fetch_or(&where->line, REPORTED, __ATOMIC_RELAXED);
  return (line & REPORTED) != 0;
}

static int bits(const struct ub_type *type) { return 1 << (type->info >> 1); }
static int is_signed(const struct ub_type *type) { return type->info & 1; }

/* An integer argument as the handler received it (inline when it fits a register). */
static void format_value(const struct ub_type *type, unsigned long value, char *buf,
                         size_t size) {
  if (type->kind != 0) {
    clkm_snprintf(buf, size, "%#lx", value);
    return;
  }
  int n = bits(type);
  if (n > 64) {
    clkm_snprintf(buf, size, "(a %d-bit value)", n);
    return;
  }
  if (is_signed(type)) {
    long v = n == 8 ? (int8_t)value : n == 16 ? (int16_t)value : n == 32 ? (int32_t)value
                                                                         : (long)value;
    clkm_snprintf(buf, size, "%ld", v);
  } else {
    unsigned long v = n == 64 ? value : value & ((1UL << n) - 1);
    clkm_snprintf(buf, size, "%lu", v);
  }
}

static int is_negative(const struct ub_type *type, unsigned long value) {
  if (type->kind != 0 || !is_signed(type) || bits(type) > 64) return 0;
  int n = bits(type);
  return (value >> (n - 1)) & 1;
}

/* Prints `kubsan: FILE:LINE:COLUMN: ` and the rest, on the console and in the message buffer. */
static void report(const struct ub_location *where, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report(const struct ub_location *where, const char *fmt, ...) {
  char what[384];
  va_list ap;
  va_start(ap, fmt);
  clkm_vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  clkm_printf("kubsan: %s:%u:%u: %s\n", where->file, where->line & ~REPORTED, where->column,
              what);
}

static _Noreturn void fatal(const struct ub_location *where, const char *what, void *pc) {
  char message[384];
  clkm_snprintf(message, sizeof message, "kubsan: %s:%u:%u: %s", where->file,
                where->line & ~REPORTED, where->column, what);
  clkm_guard_panic(message, pc);
}

static void overflow(struct ub_overflow *data, unsigned long lhs, unsigned long rhs, char op) {
  if (reported(&data->where)) return;
  char a[48], b[48];
  format_value(data->type, lhs, a, sizeof a);
  format_value(data->type, rhs, b, sizeof b);
  report(&data->where, "%s integer overflow: %s %c %s cannot be represented in type %s",
         is_signed(data->type) ? "signed" : "unsigned", a, op, b, data->type->name);
}

static void divrem(struct ub_overflow *data, unsigned long lhs, unsigned long rhs) {
  if (reported(&data->where)) return;
  char a[48];
  format_value(data->type, lhs, a, sizeof a);
  if (is_signed(data->type) && rhs != 0 && data->type->kind == 0)
    report(&data->where, "division of %s by -1 cannot be represented in type %s", a,
           data->type->name);
  else
    report(&data->where, "division by zero");
}

static void negate(struct ub_overflow *data, unsigned long value) {
  if (reported(&data->where)) return;
  char a[48];
  format_value(data->type, value, a, sizeof a);
  report(&data->where, "negation of %s cannot be represented in type %s", a, data->type->name);
}

static void shift(struct ub_shift *data, unsigned long lhs, unsigned long rhs) {
  if (reported(&data->where)) return;
  char a[48], b[48];
  format_value(data->left, lhs, a, sizeof a);
  format_value(data->right, rhs, b, sizeof b);
  if (is_negative(data->right, rhs))
    report(&data->where, "shift exponent %s is negative", b);
  else if (data->left->kind == 0 && rhs >= (unsigned long)bits(data->left))
    report(&data->where, "shift exponent %s is too large for %d-bit type %s", b,
           bits(data->left), data->left->name);
  else if (is_negative(data->left, lhs))
    report(&data->where, "left shift of negative value %s", a);
  else
    report(&data->where, "left shift of %s by %s places cannot be represented in type %s", a, b,
           data->left->name);
}

static void bounds(struct ub_bounds *data, unsigned long index) {
  if (reported(&data->where)) return;
  char i[48];
  format_value(data->index, index, i, sizeof i);
  report(&data->where, "index %s is out of range for type %s", i, data->array->name);
}

static const char *access_kind(uint8_t kind) {
  static const char *const kinds[] = {
      "load of", "store to", "reference binding to", "member access within", "member call on",
      "constructor call on", "downcast of", "downcast of", "upcast of", "cast to virtual base of",
      "_Nonnull binding to", "dynamic operation on"};
  return kind < sizeof kinds / sizeof kinds[0] ? kinds[kind] : "access to";
}

static void mismatch(struct ub_mismatch *data, unsigned long pointer) {
  if (reported(&data->where)) return;
  unsigned long alignment = 1UL << data->log_alignment;
  if (pointer == 0)
    report(&data->where, "%s null pointer of type %s", access_kind(data->kind), data->type->name);
  else if (pointer & (alignment - 1))
    report(&data->where,
           "%s misaligned address %#lx for type %s, which requires %lu-byte alignment",
           access_kind(data->kind), pointer, data->type->name, alignment);
  else
    report(&data->where, "%s address %#lx with insufficient space for an object of type %s",
           access_kind(data->kind), pointer, data->type->name);
}

static void pointer_overflow(struct ub_only_location *data, unsigned long base,
                             unsigned long result) {
  if (reported(&data->where)) return;
  if (base == 0 && result == 0)
    report(&data->where, "applying zero offset to null pointer");
  else if (base == 0)
    report(&data->where, "applying non-zero offset %#lx to null pointer", result);
  else if (result == 0)
    report(&data->where, "applying non-zero offset to non-null pointer %#lx produced null pointer",
           base);
  else
    report(&data->where, "pointer index expression with base %#lx overflowed to %#lx", base,
           result);
}

static void invalid_value(struct ub_value *data, unsigned long value) {
  if (reported(&data->where)) return;
  char a[48];
  format_value(data->type, value, a, sizeof a);
  report(&data->where, "load of value %s, which is not a valid value for type %s", a,
         data->type->name);
}

#define PC __builtin_return_address(0)

/* ---- The handlers (recoverable: report once per location and return) ---- */

CLKM_MODAPI void clkm_ubsan_add_overflow(struct ub_overflow *d, unsigned long a, unsigned long b) {
  overflow(d, a, b, '+');
}
CLKM_MODAPI void clkm_ubsan_sub_overflow(struct ub_overflow *d, unsigned long a, unsigned long b) {
  overflow(d, a, b, '-');
}
CLKM_MODAPI void clkm_ubsan_mul_overflow(struct ub_overflow *d, unsigned long a, unsigned long b) {
  overflow(d, a, b, '*');
}
CLKM_MODAPI void clkm_ubsan_divrem_overflow(struct ub_overflow *d, unsigned long a,
                                            unsigned long b) {
  divrem(d, a, b);
}
CLKM_MODAPI void clkm_ubsan_negate_overflow(struct ub_overflow *d, unsigned long v) {
  negate(d, v);
}
CLKM_MODAPI void clkm_ubsan_shift_out_of_bounds(struct ub_shift *d, unsigned long a,
                                                unsigned long b) {
  shift(d, a, b);
}
CLKM_MODAPI void clkm_ubsan_out_of_bounds(struct ub_bounds *d, unsigned long index) {
  bounds(d, index);
}
CLKM_MODAPI void clkm_ubsan_type_mismatch_v1(struct ub_mismatch *d, unsigned long pointer) {
  mismatch(d, pointer);
}
/* The older ABI (gcc before 8): the alignment itself, not its log2. */
struct ub_mismatch_v0 {
  struct ub_location where;
  struct ub_type *type;
  unsigned long alignment;
  uint8_t kind;
};
CLKM_MODAPI void clkm_ubsan_type_mismatch(struct ub_mismatch_v0 *d, unsigned long pointer) {
  if (reported(&d->where)) return;
  if (pointer == 0)
    report(&d->where, "%s null pointer of type %s", access_kind(d->kind), d->type->name);
  else
    report(&d->where, "%s address %#lx for type %s, which requires %lu-byte alignment",
           access_kind(d->kind), pointer, d->type->name, d->alignment);
}
CLKM_MODAPI void clkm_ubsan_pointer_overflow(struct ub_only_location *d, unsigned long base,
                                             unsigned long result) {
  pointer_overflow(d, base, result);
}
CLKM_MODAPI void clkm_ubsan_load_invalid_value(struct ub_value *d, unsigned long value) {
  invalid_value(d, value);
}
CLKM_MODAPI void clkm_ubsan_vla_bound_not_positive(struct ub_value *d, unsigned long bound) {
  if (reported(&d->where)) return;
  char a[48];
  format_value(d->type, bound, a, sizeof a);
  report(&d->where, "variable length array bound evaluates to non-positive value %s", a);
}
CLKM_MODAPI void clkm_ubsan_nonnull_arg(struct ub_nonnull_arg *d) {
  if (reported(&d->where)) return;
  report(&d->where, "null pointer passed as argument %d, which is declared to never be null",
         d->index);
}
CLKM_MODAPI void clkm_ubsan_nonnull_return_v1(struct ub_only_location *d,
                                              struct ub_location *where) {
  (void)d;
  if (where == NULL || reported(where)) return;
  report(where, "null pointer returned from function declared to never return null");
}
CLKM_MODAPI void clkm_ubsan_invalid_builtin(struct ub_builtin *d) {
  if (reported(&d->where)) return;
  report(&d->where, "passing zero to %s, which is not a valid argument",
         d->kind == 0 ? "ctz()" : "clz()");
}
CLKM_MODAPI void clkm_ubsan_float_cast_overflow(struct ub_cast *d, unsigned long from) {
  if (reported(&d->where)) return;
  report(&d->where, "%#lx of type %s is outside the range of representable values of type %s",
         from, d->from->name, d->to->name);
}
CLKM_MODAPI void clkm_ubsan_alignment_assumption(struct ub_alignment *d, unsigned long pointer,
                                                 unsigned long alignment, unsigned long offset) {
  if (reported(&d->where)) return;
  report(&d->where,
         "assumption of %lu-byte alignment (offset %lu) for pointer %#lx of type %s failed",
         alignment, offset, pointer, d->type->name);
}

/* ---- No way to go on: report, then panic ---- */

CLKM_MODAPI _Noreturn void clkm_ubsan_builtin_unreachable(struct ub_only_location *d) {
  fatal(&d->where, "execution reached an unreachable program point", PC);
}
CLKM_MODAPI _Noreturn void clkm_ubsan_missing_return(struct ub_only_location *d) {
  fatal(&d->where,
        "execution reached the end of a value-returning function without returning a value", PC);
}

/* -fno-sanitize-recover: the same report, then a panic. */
#define ABORT_VARIANT(name, call, ...)                                                         \
  CLKM_MODAPI _Noreturn void clkm_ubsan_##name##_abort(__VA_ARGS__) {                          \
    call;                                                                                      \
    fatal(&d->where, "undefined behaviour (-fno-sanitize-recover), reported above", PC);       \
  }
ABORT_VARIANT(add_overflow, overflow(d, a, b, '+'), struct ub_overflow *d, unsigned long a,
              unsigned long b)
ABORT_VARIANT(sub_overflow, overflow(d, a, b, '-'), struct ub_overflow *d, unsigned long a,
              unsigned long b)
ABORT_VARIANT(mul_overflow, overflow(d, a, b, '*'), struct ub_overflow *d, unsigned long a,
              unsigned long b)
ABORT_VARIANT(divrem_overflow, divrem(d, a, b), struct ub_overflow *d, unsigned long a,
              unsigned long b)
ABORT_VARIANT(negate_overflow, negate(d, a), struct ub_overflow *d, unsigned long a)
ABORT_VARIANT(shift_out_of_bounds, shift(d, a, b), struct ub_shift *d, unsigned long a,
              unsigned long b)
ABORT_VARIANT(out_of_bounds, bounds(d, a), struct ub_bounds *d, unsigned long a)
ABORT_VARIANT(type_mismatch_v1, mismatch(d, a), struct ub_mismatch *d, unsigned long a)
ABORT_VARIANT(pointer_overflow, pointer_overflow(d, a, b), struct ub_only_location *d,
              unsigned long a, unsigned long b)
ABORT_VARIANT(load_invalid_value, invalid_value(d, a), struct ub_value *d, unsigned long a)

size_t clkm_kubsan_exports(clkm_export_t *table, size_t room) {
#define H(name) CLKM_FUNC("__ubsan_handle_" #name, clkm_ubsan_##name)
  const clkm_export_t list[] = {
      H(add_overflow),           H(sub_overflow),
      H(mul_overflow),           H(divrem_overflow),
      H(negate_overflow),        H(shift_out_of_bounds),
      H(out_of_bounds),          H(type_mismatch_v1),
      H(type_mismatch),          H(pointer_overflow),
      H(load_invalid_value),     H(vla_bound_not_positive),
      H(nonnull_arg),            H(nonnull_return_v1),
      H(invalid_builtin),        H(float_cast_overflow),
      H(alignment_assumption),   H(builtin_unreachable),
      H(missing_return),         H(add_overflow_abort),
      H(sub_overflow_abort),     H(mul_overflow_abort),
      H(divrem_overflow_abort),  H(negate_overflow_abort),
      H(shift_out_of_bounds_abort), H(out_of_bounds_abort),
      H(type_mismatch_v1_abort), H(pointer_overflow_abort),
      H(load_invalid_value_abort),
  };
#undef H
  return clkm_copy_exports(table, room, list, sizeof list / sizeof list[0]);
}
