/* A call-frame unwinder over .eh_frame (the x86-64 psABI's CFI: DWARF call frame
 * instructions in CIE and FDE records), see cdebuginfo.h.
 *
 * Module objects carry the CFI and are input: every byte is read through the caller's reader
 * (which bounds or fault-guards it), every record is copied whole into a fixed buffer before
 * it is parsed, every length is checked against that buffer, searches and interpretations are
 * bounded, and anything unexpected ends the walk (0), never the caller. It covers what
 * compilers emit for x86-64: the CFA as register + offset or an expression, registers saved at
 * an offset, in another register, or by an expression, remember/restore state, and the
 * .eh_frame_hdr search table linkers write (datarel sdata4 pairs). */
#include "cdebuginfo.h"

#include <string.h>

#define RECORD_MAX 8192
#define STATE_DEPTH 8
#define SCAN_LIMIT (1u << 20) /* records looked at in one .eh_frame search */
#define EXPR_STACK 16

enum {
  DW_EH_PE_absptr = 0x00,
  DW_EH_PE_uleb128 = 0x01,
  DW_EH_PE_udata2 = 0x02,
  DW_EH_PE_udata4 = 0x03,
  DW_EH_PE_udata8 = 0x04,
  DW_EH_PE_sleb128 = 0x09,
  DW_EH_PE_sdata2 = 0x0a,
  DW_EH_PE_sdata4 = 0x0b,
  DW_EH_PE_sdata8 = 0x0c,
  DW_EH_PE_pcrel = 0x10,
  DW_EH_PE_datarel = 0x30,
  DW_EH_PE_indirect = 0x80,
  DW_EH_PE_omit = 0xff,
};

/* A record copied out of memory: bytes [0, length) were at address `base`. */
struct cursor {
  const unsigned char *p, *end;
  uint64_t base;          /* the address of the buffer's first byte */
  const unsigned char *start;
  int bad;
};

static uint8_t u8(struct cursor *c) {
  if (c->p >= c->end) {
    c->bad = 1;
    return 0;
  }
  return *c->p++;
}

static uint64_t fixed(struct cursor *c, int n) {
  if (c->end - c->p < n) {
    c->bad = 1;
    c->p = c->end;
    return 0;
  }
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | c->p[i];
  c->p += n;
  return v;
}

static uint64_t uleb(struct cursor *c) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint8_t b = u8(c);
    if (c->bad) return 0;
    if (shift < 64) v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  c->bad = 1;
  return 0;
}

static int64_t sleb(struct cursor *c) {
  int64_t v = 0;
  int shift = 0;
  uint8_t b;
  do {
    b = u8(c);
    if (c->bad || shift >= 70) {
      c->bad = 1;
      return 0;
    }
    if (shift < 64) v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
    shift += 7;
  } while (b & 0x80);
  if (shift < 64 && (b & 0x40)) v |= -((int64_t)1 << shift);
  return v;
}

static uint64_t here(const struct cursor *c) { return c->base + (uint64_t)(c->p - c->start); }

/* A pointer encoded as `encoding`; datarel is relative to `data` (the .eh_frame_hdr). */
static uint64_t encoded(struct cursor *c, uint8_t encoding, uint64_t data, const cdi_memory_t *m) {
  if (encoding == DW_EH_PE_omit) return 0;
  uint64_t at = here(c);
  uint64_t v;
  switch (encoding & 0x0f) {
  case DW_EH_PE_absptr: v = fixed(c, 8); break;
  case DW_EH_PE_uleb128: v = uleb(c); break;
  case DW_EH_PE_udata2: v = fixed(c, 2); break;
  case DW_EH_PE_udata4: v = fixed(c, 4); break;
  case DW_EH_PE_udata8: v = fixed(c, 8); break;
  case DW_EH_PE_sleb128: v = (uint64_t)sleb(c); break;
  case DW_EH_PE_sdata2: v = (uint64_t)(int64_t)(int16_t)fixed(c, 2); break;
  case DW_EH_PE_sdata4: v = (uint64_t)(int64_t)(int32_t)fixed(c, 4); break;
  case DW_EH_PE_sdata8: v = fixed(c, 8); break;
  default: c->bad = 1; return 0;
  }
  switch (encoding & 0x70) {
  case 0: break;
  case DW_EH_PE_pcrel: v += at; break;
  case DW_EH_PE_datarel: v += data; break;
  default: c->bad = 1; return 0;
  }
  if (encoding & DW_EH_PE_indirect) {
    uint64_t target;
    if (m->read(m->context, v, &target, 8) != 0) {
      c->bad = 1;
      return 0;
    }
    v = target;
  }
  return v;
}

/* Reads the record at `address` into buf: returns its total length (length field included),
 * or 0 for the terminator, or -1. */
static int64_t read_record(const cdi_memory_t *m, uint64_t address, unsigned char *buf) {
  uint32_t length;
  if (m->read(m->context, address, &length, 4) != 0) return -1;
  if (length == 0) return 0;
  if (length == 0xffffffffu || length > RECORD_MAX - 4) return -1; /* 64-bit or too long */
  if (m->read(m->context, address, buf, 4 + (size_t)length) != 0) return -1;
  return 4 + (int64_t)length;
}

struct cie {
  uint64_t code_align;
  int64_t data_align;
  unsigned ra;
  uint8_t fde_encoding;
  int has_z;
  int signal_frame;
  /* The initial instructions, inside the CIE's buffer. */
  const unsigned char *insns, *insns_end;
  uint64_t insns_base;
};

/* Parses the CIE record in buf (at address). */
static int parse_cie(const unsigned char *buf, int64_t length, uint64_t address, struct cie *cie,
                     const cdi_memory_t *m) {
  struct cursor c = {buf + 4, buf + length, address, buf, 0};
  if (fixed(&c, 4) != 0) return -1; /* a CIE's id is 0 in .eh_frame */
  uint8_t version = u8(&c);
  if (version != 1 && version != 3) return -1;
  const unsigned char *aug = c.p;
  while (c.p < c.end && *c.p != 0) c.p++;
  if (c.p >= c.end) return -1;
  const unsigned char *aug_end = c.p;
  c.p++;
  memset(cie, 0, sizeof *cie);
  cie->fde_encoding = DW_EH_PE_absptr;
  cie->code_align = uleb(&c);
  cie->data_align = sleb(&c);
  cie->ra = version == 1 ? u8(&c) : (unsigned)uleb(&c);
  if (c.bad || cie->ra != CDI_PC) return -1;
  const unsigned char *after_data = NULL;
  for (const unsigned char *a = aug; a < aug_end; a++) {
    switch (*a) {
    case 'z': {
      if (a != aug) return -1;
      uint64_t n = uleb(&c);
      if (c.bad || n > (uint64_t)(c.end - c.p)) return -1;
      after_data = c.p + n;
      cie->has_z = 1;
      break;
    }
    case 'R': cie->fde_encoding = u8(&c); break;
    case 'P': {
      uint8_t e = u8(&c);
      (void)encoded(&c, e & ~DW_EH_PE_indirect, 0, m);
      break;
    }
    case 'L': (void)u8(&c); break;
    case 'S': cie->signal_frame = 1; break;
    default:
      /* Unknown augmentation: only skippable with 'z'. */
      if (after_data == NULL) return -1;
      c.p = after_data;
      a = aug_end - 1;
      break;
    }
    if (c.bad) return -1;
  }
  if (after_data != NULL) c.p = after_data;
  cie->insns = c.p;
  cie->insns_end = c.end;
  cie->insns_base = address + (uint64_t)(c.p - buf);
  return 0;
}

struct fde {
  uint64_t begin, range;
  const unsigned char *insns, *insns_end;
};

/* Parses the FDE in buf (at address) with its CIE, which it reads into cie_buf. */
static int parse_fde(const unsigned char *buf, int64_t length, uint64_t address,
                     unsigned char *cie_buf, struct cie *cie, struct fde *fde,
                     const cdi_memory_t *m) {
  struct cursor c = {buf + 4, buf + length, address, buf, 0};
  uint64_t id_at = here(&c);
  uint32_t id = (uint32_t)fixed(&c, 4);
  if (id == 0 || c.bad) return -1;
  uint64_t cie_address = id_at - id;
  int64_t cie_length = read_record(m, cie_address, cie_buf);
  if (cie_length <= 0 || parse_cie(cie_buf, cie_length, cie_address, cie, m) != 0) return -1;
  fde->begin = encoded(&c, cie->fde_encoding, 0, m);
  fde->range = encoded(&c, cie->fde_encoding & 0x0f, 0, m);
  if (cie->has_z) {
    uint64_t n = uleb(&c);
    if (c.bad || n > (uint64_t)(c.end - c.p)) return -1;
    c.p += n;
  }
  if (c.bad) return -1;
  fde->insns = c.p;
  fde->insns_end = c.end;
  return 0;
}

/* The FDE covering pc: searched in the .eh_frame_hdr table, or scanned. */
static int find_fde(const cdi_memory_t *m, uint64_t pc, unsigned char *buf, unsigned char *cie_buf,
                    struct cie *cie, struct fde *fde) {
  uint64_t hdr = 0, start = 0, end = 0;
  if (m->find(m->context, pc, &hdr, &start, &end) != 0) return -1;
  if (hdr != 0) {
    unsigned char head[4 + 16];
    if (m->read(m->context, hdr, head, sizeof head) != 0) return -1;
    if (head[0] != 1) return -1;
    struct cursor c = {head + 4, head + sizeof head, hdr, head, 0};
    uint64_t eh_frame = encoded(&c, head[1], hdr, m);
    uint64_t count = encoded(&c, head[2], hdr, m);
    if (c.bad) return -1;
    if (head[3] == (DW_EH_PE_datarel | DW_EH_PE_sdata4) && count > 0 && count < (1u << 28)) {
      uint64_t table = here(&c);
      uint64_t lo = 0, hi = count;
      while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        int32_t loc;
        if (m->read(m->context, table + mid * 8, &loc, 4) != 0) return -1;
        if (hdr + (uint64_t)(int64_t)loc <= pc) lo = mid; else hi = mid;
      }
      int32_t pair[2];
      if (m->read(m->context, table + lo * 8, pair, 8) != 0) return -1;
      uint64_t at = hdr + (uint64_t)(int64_t)pair[1];
      int64_t length = read_record(m, at, buf);
      if (length <= 0 || parse_fde(buf, length, at, cie_buf, cie, fde, m) != 0) return -1;
      return pc >= fde->begin && pc - fde->begin < fde->range ? 0 : -1;
    }
    /* No usable table: scan the .eh_frame it points to, up to its terminator. */
    start = eh_frame;
    end = UINT64_MAX;
  }
  uint64_t at = start;
  for (unsigned n = 0; n < SCAN_LIMIT && at < end && end - at >= 4; n++) {
    int64_t length = read_record(m, at, buf);
    if (length <= 0) return -1;
    uint32_t id;
    memcpy(&id, buf + 4, 4);
    if (id != 0 && parse_fde(buf, length, at, cie_buf, cie, fde, m) == 0 && pc >= fde->begin &&
        pc - fde->begin < fde->range)
      return 0;
    if (at + (uint64_t)length < at) return -1;
    at += (uint64_t)length;
  }
  return -1;
}

enum rule_kind { SAME = 0, UNDEFINED, OFFSET, VAL_OFFSET, REGISTER, EXPRESSION, VAL_EXPRESSION };

struct rule {
  uint8_t kind;
  int64_t value; /* offset, register, or the expression's index in its buffer */
  const unsigned char *expr;
  uint64_t expr_length;
};

struct frame_state {
  int cfa_register;
  int64_t cfa_offset;
  const unsigned char *cfa_expr;
  uint64_t cfa_expr_length;
  struct rule rules[CDI_REGS];
};

/* Runs instructions [p, end) while the location stays <= pc. */
static int execute(const unsigned char *p, const unsigned char *end, uint64_t base, uint64_t loc,
                   uint64_t pc, const struct cie *cie, struct frame_state *s,
                   const struct frame_state *initial) {
  struct cursor c = {p, end, base, p, 0};
  struct frame_state stack[STATE_DEPTH];
  int depth = 0;
  while (c.p < c.end && !c.bad) {
    uint8_t op = u8(&c);
    uint8_t low = op & 0x3f;
    uint64_t reg, delta;
    switch (op >> 6) {
    case 1: /* advance_loc */
      delta = low * cie->code_align;
      if (loc + delta > pc) return 0;
      loc += delta;
      continue;
    case 2: /* offset */
      reg = low;
      delta = uleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){OFFSET, (int64_t)delta * cie->data_align, 0, 0};
      continue;
    case 3: /* restore */
      if (low < CDI_REGS) s->rules[low] = initial ? initial->rules[low] : (struct rule){SAME, 0, 0, 0};
      continue;
    }
    switch (op) {
    case 0x00: break; /* nop */
    case 0x01: return 0; /* set_loc: not emitted for .eh_frame by compilers */
    case 0x02: case 0x03: case 0x04:
      delta = fixed(&c, op == 0x02 ? 1 : op == 0x03 ? 2 : 4) * cie->code_align;
      if (loc + delta > pc) return 0;
      loc += delta;
      break;
    case 0x05: /* offset_extended */
      reg = uleb(&c);
      delta = uleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){OFFSET, (int64_t)delta * cie->data_align, 0, 0};
      break;
    case 0x11: { /* offset_extended_sf */
      reg = uleb(&c);
      int64_t off = sleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){OFFSET, off * cie->data_align, 0, 0};
      break;
    }
    case 0x14: case 0x15: { /* val_offset(_sf) */
      reg = uleb(&c);
      int64_t off = op == 0x14 ? (int64_t)uleb(&c) : sleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){VAL_OFFSET, off * cie->data_align, 0, 0};
      break;
    }
    case 0x06: /* restore_extended */
      reg = uleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = initial ? initial->rules[reg] : (struct rule){SAME, 0, 0, 0};
      break;
    case 0x07: case 0x08: /* undefined, same_value */
      reg = uleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){op == 0x07 ? UNDEFINED : SAME, 0, 0, 0};
      break;
    case 0x09: { /* register */
      reg = uleb(&c);
      uint64_t other = uleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){REGISTER, (int64_t)other, 0, 0};
      break;
    }
    case 0x0a: /* remember_state */
      if (depth == STATE_DEPTH) return -1;
      stack[depth++] = *s;
      break;
    case 0x0b: { /* restore_state: the CFA rule stays, as libgcc does */
      if (depth == 0) return -1;
      int r = s->cfa_register;
      int64_t o = s->cfa_offset;
      const unsigned char *e = s->cfa_expr;
      uint64_t el = s->cfa_expr_length;
      *s = stack[--depth];
      s->cfa_register = r, s->cfa_offset = o, s->cfa_expr = e, s->cfa_expr_length = el;
      break;
    }
    case 0x0c: /* def_cfa */
      s->cfa_register = (int)uleb(&c);
      s->cfa_offset = (int64_t)uleb(&c);
      s->cfa_expr = NULL;
      break;
    case 0x12: /* def_cfa_sf */
      s->cfa_register = (int)uleb(&c);
      s->cfa_offset = sleb(&c) * cie->data_align;
      s->cfa_expr = NULL;
      break;
    case 0x0d: /* def_cfa_register */
      s->cfa_register = (int)uleb(&c);
      s->cfa_expr = NULL;
      break;
    case 0x0e: /* def_cfa_offset */
      s->cfa_offset = (int64_t)uleb(&c);
      break;
    case 0x13: /* def_cfa_offset_sf */
      s->cfa_offset = sleb(&c) * cie->data_align;
      break;
    case 0x0f: { /* def_cfa_expression */
      uint64_t n = uleb(&c);
      if (c.bad || n > (uint64_t)(c.end - c.p)) return -1;
      s->cfa_expr = c.p;
      s->cfa_expr_length = n;
      c.p += n;
      break;
    }
    case 0x10: case 0x16: { /* expression, val_expression */
      reg = uleb(&c);
      uint64_t n = uleb(&c);
      if (c.bad || n > (uint64_t)(c.end - c.p)) return -1;
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){op == 0x10 ? EXPRESSION : VAL_EXPRESSION, 0, c.p, n};
      c.p += n;
      break;
    }
    case 0x2e: (void)uleb(&c); break; /* GNU_args_size */
    case 0x2f: { /* GNU_negative_offset_extended */
      reg = uleb(&c);
      delta = uleb(&c);
      if (reg < CDI_REGS) s->rules[reg] = (struct rule){OFFSET, -(int64_t)delta * cie->data_align, 0, 0};
      break;
    }
    default: return -1;
    }
  }
  return c.bad ? -1 : 0;
}

/* A DWARF expression over the frame's registers (the subset CFI uses); `push` is an initial
 * value (the CFA for register rules) or none. */
static int evaluate(const unsigned char *expr, uint64_t length, const cdi_regs_t *r, int push,
                    uint64_t initial, const cdi_memory_t *m, uint64_t *out) {
  uint64_t stack[EXPR_STACK];
  int sp = 0;
  if (push) stack[sp++] = initial;
  struct cursor c = {expr, expr + length, 0, expr, 0};
  while (c.p < c.end) {
    uint8_t op = u8(&c);
    uint64_t a, b;
#define PUSH(v)                           \
  do {                                    \
    if (sp == EXPR_STACK) return -1;      \
    stack[sp++] = (v);                    \
  } while (0)
#define POP(v)                            \
  do {                                    \
    if (sp == 0) return -1;               \
    (v) = stack[--sp];                    \
  } while (0)
    if (op >= 0x30 && op <= 0x4f) { /* lit0..31 */
      PUSH((uint64_t)(op - 0x30));
      continue;
    }
    if (op >= 0x70 && op <= 0x8f) { /* breg0..31 */
      unsigned reg = op - 0x70;
      int64_t off = sleb(&c);
      if (reg >= CDI_REGS || !(r->known & (1u << reg))) return -1;
      PUSH(r->value[reg] + (uint64_t)off);
      continue;
    }
    switch (op) {
    case 0x06: /* deref */
      POP(a);
      if (m->read(m->context, a, &b, 8) != 0) return -1;
      PUSH(b);
      break;
    case 0x08: PUSH(fixed(&c, 1)); break;                          /* const1u */
    case 0x09: PUSH((uint64_t)(int64_t)(int8_t)fixed(&c, 1)); break; /* const1s */
    case 0x0a: PUSH(fixed(&c, 2)); break;
    case 0x0b: PUSH((uint64_t)(int64_t)(int16_t)fixed(&c, 2)); break;
    case 0x0c: PUSH(fixed(&c, 4)); break;
    case 0x0d: PUSH((uint64_t)(int64_t)(int32_t)fixed(&c, 4)); break;
    case 0x0e: case 0x0f: PUSH(fixed(&c, 8)); break;
    case 0x10: PUSH(uleb(&c)); break;           /* constu */
    case 0x11: PUSH((uint64_t)sleb(&c)); break; /* consts */
    case 0x12: POP(a); PUSH(a); PUSH(a); break; /* dup */
    case 0x13: POP(a); break;                   /* drop */
    case 0x16: POP(a); POP(b); PUSH(a); PUSH(b); break; /* swap */
    case 0x1a: POP(a); POP(b); PUSH(b & a); break;
    case 0x1c: POP(a); POP(b); PUSH(b - a); break;
    case 0x21: POP(a); POP(b); PUSH(b | a); break;
    case 0x22: POP(a); POP(b); PUSH(b + a); break;
    case 0x23: POP(a); PUSH(a + uleb(&c)); break; /* plus_uconst */
    case 0x24: POP(a); POP(b); PUSH(a < 64 ? b << a : 0); break;
    case 0x25: POP(a); POP(b); PUSH(a < 64 ? b >> a : 0); break;
    case 0x29: POP(a); POP(b); PUSH((int64_t)b == (int64_t)a); break; /* eq */
    case 0x2a: POP(a); POP(b); PUSH((int64_t)b >= (int64_t)a); break; /* ge */
    case 0x2b: POP(a); POP(b); PUSH((int64_t)b > (int64_t)a); break;
    case 0x2c: POP(a); POP(b); PUSH((int64_t)b <= (int64_t)a); break;
    case 0x2d: POP(a); POP(b); PUSH((int64_t)b < (int64_t)a); break;
    case 0x2e: POP(a); POP(b); PUSH((int64_t)b != (int64_t)a); break;
    case 0x96: break; /* nop */
    default: return -1;
    }
    if (c.bad) return -1;
#undef PUSH
#undef POP
  }
  if (sp == 0 || c.bad) return -1;
  *out = stack[sp - 1];
  return 0;
}

int cdi_unwind_step(const cdi_memory_t *m, cdi_regs_t *r, int exact) {
  if (!(r->known & (1u << CDI_PC)) || !(r->known & (1u << CDI_RSP))) return 0;
  uint64_t pc = r->value[CDI_PC];
  if (pc == 0) return 0;
  /* A return address is just past the call: its CFI is the call's. */
  uint64_t lookup = exact ? pc : pc - 1;
  static __thread unsigned char buf[RECORD_MAX], cie_buf[RECORD_MAX];
  struct cie cie;
  struct fde fde;
  if (find_fde(m, lookup, buf, cie_buf, &cie, &fde) != 0) return 0;
  struct frame_state initial, s;
  memset(&initial, 0, sizeof initial);
  initial.cfa_register = CDI_RSP;
  initial.cfa_offset = 8;
  if (execute(cie.insns, cie.insns_end, cie.insns_base, fde.begin, UINT64_MAX, &cie, &initial, NULL) != 0)
    return 0;
  s = initial;
  if (execute(fde.insns, fde.insns_end, 0, fde.begin, lookup, &cie, &s, &initial) != 0) return 0;
  uint64_t cfa;
  if (s.cfa_expr != NULL) {
    if (evaluate(s.cfa_expr, s.cfa_expr_length, r, 0, 0, m, &cfa) != 0) return 0;
  } else {
    if (s.cfa_register < 0 || s.cfa_register >= CDI_REGS || !(r->known & (1u << s.cfa_register)))
      return 0;
    cfa = r->value[s.cfa_register] + (uint64_t)s.cfa_offset;
  }
  cdi_regs_t next = {{0}, 0};
  for (int i = 0; i < CDI_REGS; i++) {
    const struct rule *rule = &s.rules[i];
    uint64_t v = 0, at;
    switch (rule->kind) {
    case SAME:
      /* Callee-saved registers keep their value; others are unknown in the caller. */
      if (i == 3 || i == 6 || (i >= 12 && i <= 15)) {
        if (r->known & (1u << i)) {
          next.value[i] = r->value[i];
          next.known |= 1u << i;
        }
      }
      continue;
    case UNDEFINED: continue;
    case OFFSET:
      if (m->read(m->context, cfa + (uint64_t)rule->value, &v, 8) != 0) continue;
      break;
    case VAL_OFFSET: v = cfa + (uint64_t)rule->value; break;
    case REGISTER:
      if (rule->value < 0 || rule->value >= CDI_REGS || !(r->known & (1u << rule->value))) continue;
      v = r->value[rule->value];
      break;
    case EXPRESSION:
      if (evaluate(rule->expr, rule->expr_length, r, 1, cfa, m, &at) != 0) continue;
      if (m->read(m->context, at, &v, 8) != 0) continue;
      break;
    case VAL_EXPRESSION:
      if (evaluate(rule->expr, rule->expr_length, r, 1, cfa, m, &v) != 0) continue;
      break;
    }
    next.value[i] = v;
    next.known |= 1u << i;
  }
  /* The caller's stack pointer is the CFA; its pc the return address. */
  next.value[CDI_RSP] = cfa;
  next.known |= 1u << CDI_RSP;
  if (!(next.known & (1u << CDI_PC)) || next.value[CDI_PC] == 0) return 0;
  *r = next;
  return 1;
}
