#!/usr/bin/env python3
"""Writes the malformed-input corpus: Fixtures/malformed/*.o, *.a and expected.tsv.

Every file starts from one small valid object built here byte by byte (no compiler, so the
output is identical on every machine), then breaks one thing. Each case carries the exact line
`lkmrun -n NAME` must print on stderr after "lkmrun: ", run from Fixtures/malformed so that
messages name the bare file, and who refuses it:

  reader  ELFObject refuses it: ObjectFile/Archive init throws ELFError with that
          description and the code in the code column (an ELFError.Code).
  linker  the reader accepts it; the link throws LinkError (code: a LinkError.Code).
  valid   a control: the reader accepts it and `lkmrun -n` exits 0 silently.

Deterministic (run it twice: `git status` shows nothing new). Standard library only.

    scripts/make-malformed.py [OUTPUT_DIR]     (default: Fixtures/malformed)
"""

import os
import struct
import sys

# --- ELF ----------------------------------------------------------------------------------

SHT_NULL, SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA = 0, 1, 2, 3, 4
SHT_DYNAMIC, SHT_NOBITS, SHT_REL, SHT_GROUP, SHT_SYMTAB_SHNDX = 6, 8, 9, 17, 18
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_INFO_LINK = 0x1, 0x2, 0x4, 0x40
SHF_TLS, SHF_COMPRESSED = 0x400, 0x800
STB_LOCAL, STB_GLOBAL = 0, 1
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE, STT_TLS = 0, 1, 2, 3, 4, 6
STT_GNU_IFUNC = 10
SHN_UNDEF, SHN_ABS, SHN_COMMON, SHN_XINDEX = 0, 0xFFF1, 0xFFF2, 0xFFFF
R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32 = 1, 2, 4

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")  # Elf64_Ehdr
SHDR = struct.Struct("<IIQQQQIIQQ")  # Elf64_Shdr
SYM = struct.Struct("<IBBHQQ")  # Elf64_Sym
RELA = struct.Struct("<QQq")  # Elf64_Rela

# Elf64_Ehdr field offsets.
EI_CLASS, EI_DATA, EI_VERSION = 4, 5, 6
E_TYPE, E_MACHINE, E_VERSION, E_SHOFF = 16, 18, 20, 40
E_EHSIZE, E_SHENTSIZE, E_SHNUM, E_SHSTRNDX = 52, 58, 60, 62
# Elf64_Shdr field offsets and widths.
SH_NAME, SH_TYPE, SH_FLAGS, SH_OFFSET, SH_SIZE = 0, 4, 8, 24, 32
SH_LINK, SH_INFO, SH_ADDRALIGN, SH_ENTSIZE = 40, 44, 48, 56
SH_WIDTH = {SH_NAME: 4, SH_TYPE: 4, SH_LINK: 4, SH_INFO: 4}
# Elf64_Sym field offsets.
ST_NAME, ST_INFO, ST_SHNDX = 0, 4, 6


class Section:
    def __init__(self, name, type, flags=0, data=b"", size=None, link=0, info=0, align=1,
                 entsize=0):
        self.name, self.type, self.flags, self.data = name, type, flags, data
        self.size = len(data) if size is None else size
        self.link, self.info, self.align, self.entsize = link, info, align, entsize


class Symbol:
    def __init__(self, name, bind, type, shndx, value=0, size=0):
        self.name, self.bind, self.type, self.shndx = name, bind, type, shndx
        self.value, self.size = value, size


class Spec:
    """An object before layout. Section links, infos and symbol sections may be given by name;
    .symtab, .strtab, .shstrtab and .rela.text get their contents from the other fields."""

    def __init__(self):
        # .text, 0x10 bytes: main calls helper and returns counter.
        #   0: e8 00 00 00 00     call helper               R_X86_64_PLT32 helper-4 at 0x1
        #   5: 8b 05 00 00 00 00  mov counter(%rip),%eax    R_X86_64_PC32 counter-4 at 0x7
        #   b: c3                 ret
        #   c: 31 c0 c3           helper: xor %eax,%eax; ret
        #   f: 90                 nop
        text = bytes.fromhex("e800000000" "8b0500000000" "c3" "31c0c3" "90")
        self.sections = [
            Section(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, text, align=16),
            Section(".rela.text", SHT_RELA, SHF_INFO_LINK, link=".symtab", info=".text",
                    align=8, entsize=24),
            Section(".data", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, struct.pack("<I", 42),
                    align=4),
            Section(".bss", SHT_NOBITS, SHF_ALLOC | SHF_WRITE, size=16, align=8),
            Section(".note.GNU-stack", SHT_PROGBITS, 0),
            Section(".symtab", SHT_SYMTAB, 0, link=".strtab", align=8, entsize=24),
            Section(".strtab", SHT_STRTAB, 0),
            Section(".shstrtab", SHT_STRTAB, 0),
        ]
        self.symbols = [
            Symbol("", STB_LOCAL, STT_NOTYPE, SHN_UNDEF),
            Symbol("base.c", STB_LOCAL, STT_FILE, SHN_ABS),
            Symbol("", STB_LOCAL, STT_SECTION, ".text"),
            Symbol("", STB_LOCAL, STT_SECTION, ".data"),
            Symbol("", STB_LOCAL, STT_SECTION, ".bss"),
            Symbol("main", STB_GLOBAL, STT_FUNC, ".text", 0x0, 0xC),
            Symbol("helper", STB_GLOBAL, STT_FUNC, ".text", 0xC, 0x3),
            Symbol("counter", STB_GLOBAL, STT_OBJECT, ".data", 0x0, 0x4),
            Symbol("buffer", STB_GLOBAL, STT_OBJECT, ".bss", 0x0, 0x10),
        ]
        # (offset, type, symbol name or index, addend)
        self.relocations = [(0x1, R_X86_64_PLT32, "helper", -4),
                            (0x7, R_X86_64_PC32, "counter", -4)]
        # Section headers right after the ELF header (else after the data, as gcc does).
        self.headers_first = False
        # Section names whose data goes first (else section order).
        self.data_first = []

    def index(self, name):
        if isinstance(name, int):
            return name
        for i, s in enumerate(self.sections):
            if s.name == name:
                return i + 1
        raise KeyError(name)

    def section(self, name):
        return self.sections[self.index(name) - 1]

    def symbol_index(self, name):
        if isinstance(name, int):
            return name
        return next(i for i, s in enumerate(self.symbols)
                    if s.name == name and s.type != STT_SECTION)


def string_table(names):
    """A string table holding `names`: (bytes, {name: offset})."""
    data, offsets = bytearray(b"\0"), {"": 0}
    for n in names:
        if n not in offsets:
            offsets[n] = len(data)
            data += n.encode() + b"\0"
    return bytes(data), offsets


class Built:
    """A laid-out object: its bytes and where things are, for byte-level edits."""

    def __init__(self, data, shoff, offsets, spec):
        self.data, self.shoff, self.offsets, self.spec = bytearray(data), shoff, offsets, spec

    def set(self, at, value, size):
        self.data[at:at + size] = value.to_bytes(size, "little", signed=value < 0)

    def set_shdr(self, section, field, value):
        self.set(self.shoff + 64 * self.spec.index(section) + field, value,
                 SH_WIDTH.get(field, 8))

    def shdr(self, section, field):
        at = self.shoff + 64 * self.spec.index(section) + field
        return int.from_bytes(self.data[at:at + SH_WIDTH.get(field, 8)], "little")

    def offset(self, section):
        return self.offsets[self.spec.index(section)]

    def size(self, section):
        return self.shdr(section, SH_SIZE)

    def set_symbol(self, index, field, value, size):
        self.set(self.offset(".symtab") + 24 * index + field, value, size)

    def bytes(self):
        return bytes(self.data)


def build(spec=None):
    """Lays out `spec`: ELF header, section data (each at its alignment), section headers."""
    spec = spec or Spec()
    secs = spec.sections
    sym_strtab, sym_names = string_table(s.name for s in spec.symbols if s.type != STT_SECTION)
    sh_strtab, sh_names = string_table(s.name for s in secs)
    symtab = bytearray()
    first_global = len(spec.symbols)
    for i, s in enumerate(spec.symbols):
        shndx = spec.index(s.shndx) if isinstance(s.shndx, str) else s.shndx
        name = sym_names[s.name] if s.type != STT_SECTION else 0
        symtab += SYM.pack(name, (s.bind << 4) | s.type, 0, shndx, s.value, s.size)
        if s.bind != STB_LOCAL and first_global == len(spec.symbols):
            first_global = i
    rela = b"".join(RELA.pack(offset, (spec.symbol_index(sym) << 32) | type, addend)
                    for offset, type, sym, addend in spec.relocations)
    generated = {(".symtab", SHT_SYMTAB): bytes(symtab), (".strtab", SHT_STRTAB): sym_strtab,
                 (".shstrtab", SHT_STRTAB): sh_strtab, (".rela.text", SHT_RELA): rela}
    for s in secs:
        if (s.name, s.type) in generated and not s.data:
            s.data = generated[(s.name, s.type)]
            s.size = len(s.data)
            if s.type == SHT_SYMTAB and not s.info:
                s.info = first_global

    out = bytearray(64)
    table_size = 64 * (len(secs) + 1)
    shoff = None
    if spec.headers_first:
        shoff = len(out)
        out += bytes(table_size)
    offsets = {0: 0}
    order = sorted(range(len(secs)),
                   key=lambda i: (secs[i].name not in spec.data_first, i))
    for i in order:
        s = secs[i]
        align = s.align if 0 < s.align <= 16 and s.align & (s.align - 1) == 0 else 1
        while len(out) % align:
            out.append(0)
        offsets[i + 1] = len(out)
        if s.type != SHT_NOBITS:
            out += s.data
    if shoff is None:
        while len(out) % 8:
            out.append(0)
        shoff = len(out)
        out += bytes(table_size)

    headers = [bytes(64)]
    for i, s in enumerate(secs, 1):
        link = spec.index(s.link) if isinstance(s.link, str) else s.link
        info = spec.index(s.info) if isinstance(s.info, str) else s.info
        headers.append(SHDR.pack(sh_names[s.name], s.type, s.flags, 0, offsets[i], s.size, link,
                                 info, s.align, s.entsize))
    out[shoff:shoff + table_size] = b"".join(headers)
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    out[0:64] = EHDR.pack(ident, 1, 62, 1, 0, 0, shoff, 0, 64, 0, 0, 64, len(secs) + 1,
                          spec.index(".shstrtab"))
    return Built(out, shoff, offsets, spec)


def edited(edits):
    """The base object with `edits` [(offset, value, size)] applied."""
    b = build()
    for at, value, size in edits:
        b.set(at, value, size)
    return b.bytes()


def with_shdr(section, *fields, spec=None):
    """The object with section header fields replaced: with_shdr(".data", SH_SIZE, 9, ...)."""
    b = build(spec)
    for field, value in zip(fields[::2], fields[1::2]):
        b.set_shdr(section, field, value)
    return b.bytes()


def helper_object():
    """A second valid object, for archives: defines helper2, needs helper and counter."""
    spec = Spec()
    spec.symbols = [
        Symbol("", STB_LOCAL, STT_NOTYPE, SHN_UNDEF),
        Symbol("", STB_LOCAL, STT_SECTION, ".text"),
        Symbol("helper2", STB_GLOBAL, STT_FUNC, ".text", 0xC, 0x3),
        Symbol("helper", STB_GLOBAL, STT_NOTYPE, SHN_UNDEF),
        Symbol("counter", STB_GLOBAL, STT_NOTYPE, SHN_UNDEF),
    ]
    return build(spec).bytes()


# --- ar -----------------------------------------------------------------------------------


def ar_header(name, size, terminator=b"`\n", size_field=None):
    size_field = str(size) if size_field is None else size_field
    h = (name.encode().ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6)
         + b"644".ljust(8) + size_field.encode().ljust(10) + terminator)
    assert len(h) == 60, h
    return h


def ar_member(name, data, **kwargs):
    m = ar_header(name, len(data), **kwargs) + data
    return m + b"\n" if len(m) % 2 else m


def archive(members, symbols=None, index_offsets=None):
    """A GNU ar archive of `members` [(name, bytes)]. `symbols` [(name, member position)]
    adds a "/" index whose offsets point at the members' headers (or are `index_offsets`)."""
    bodies = [ar_member(n + "/", d) for n, d in members]
    out = bytearray(b"!<arch>\n")
    if symbols is not None:
        names = b"".join(s.encode() + b"\0" for s, _ in symbols)
        index_size = 4 + 4 * len(symbols) + len(names)
        at = 8 + 60 + index_size + index_size % 2
        starts = []
        for body in bodies:
            starts.append(at)
            at += len(body)
        offsets = index_offsets or [starts[m] for _, m in symbols]
        out += ar_member("/", struct.pack(f">I{len(offsets)}I", len(symbols), *offsets) + names)
    for body in bodies:
        out += body
    return bytes(out)


# --- the cases ----------------------------------------------------------------------------

CASES = {}  # file name -> (stage, code, line, bytes)


def case(name, stage, code, message, data):
    """One file. `message` is the problem after "NAME: ", or the whole line when it contains
    "{file}" (standing for NAME) or the stage is linker."""
    assert stage in ("reader", "linker", "valid") and name not in CASES, name
    if stage == "valid":
        line = "-"
    elif stage == "linker" or "{file}" in message:
        line = message.format(file=name)
    else:
        line = f"{name}: {message}"
    CASES[name] = (stage, code, line, data)


def reader(name, code, message, data):
    case(name, "reader", code, message, data)


def linker(name, code, message, data):
    case(name, "linker", code, message, data)


def header_cases():
    good = build().bytes()
    size, shoff = len(good), build().shoff
    sections = len(Spec().sections) + 1

    reader("trunc-empty.o", "truncated", "file of 0 bytes is too short to be an ELF object", b"")
    reader("trunc-3.o", "truncated", "file of 3 bytes is too short to be an ELF object", good[:3])
    for n in (4, 16, 40, 63):
        reader(f"trunc-ehdr-{n}.o", "truncated",
               f"file of {n} bytes is shorter than an ELF64 header (64 bytes)", good[:n])
    reader("not-elf.o", "unsupportedFormat", "not an ELF file (bad magic)",
           b"int main(void) { return 0; }\n")
    reader("class32.o", "unsupportedFormat", "ELF class 1 (ELFCLASS32) is not ELFCLASS64",
           edited([(EI_CLASS, 1, 1)]))
    reader("class-none.o", "unsupportedFormat", "ELF class 0 (ELFCLASSNONE) is not ELFCLASS64",
           edited([(EI_CLASS, 0, 1)]))
    reader("big-endian.o", "unsupportedFormat",
           "ELF data encoding 2 (ELFDATA2MSB, big-endian) is not ELFDATA2LSB",
           edited([(EI_DATA, 2, 1)]))
    reader("ident-version-0.o", "badHeader", "ELF ident version 0 is not 1",
           edited([(EI_VERSION, 0, 1)]))
    reader("machine-aarch64.o", "unsupportedFormat",
           "machine 183 (EM_AARCH64) is not x86-64 (EM_X86_64 = 62)",
           edited([(E_MACHINE, 183, 2)]))
    reader("machine-i386.o", "unsupportedFormat",
           "machine 3 (EM_386) is not x86-64 (EM_X86_64 = 62)", edited([(E_MACHINE, 3, 2)]))
    reader("machine-4660.o", "unsupportedFormat", "machine 4660 is not x86-64 (EM_X86_64 = 62)",
           edited([(E_MACHINE, 4660, 2)]))
    reader("type-exec.o", "unsupportedFormat",
           "is an executable (ET_EXEC), not a relocatable object (ET_REL)", edited([(E_TYPE, 2, 2)]))
    reader("type-dyn.o", "unsupportedFormat",
           "is a shared object or PIE (ET_DYN), not a relocatable object (ET_REL)",
           edited([(E_TYPE, 3, 2)]))
    reader("type-core.o", "unsupportedFormat",
           "is a core file (ET_CORE), not a relocatable object (ET_REL)", edited([(E_TYPE, 4, 2)]))
    reader("type-none.o", "unsupportedFormat", "is of type 0, not a relocatable object (ET_REL)",
           edited([(E_TYPE, 0, 2)]))
    reader("e-version-2.o", "badHeader", "e_version 2 is not 1", edited([(E_VERSION, 2, 4)]))
    reader("ehsize-52.o", "badHeader", "e_ehsize 52 is not 64", edited([(E_EHSIZE, 52, 2)]))
    reader("shentsize-40.o", "badHeader", "e_shentsize 40 is not 64",
           edited([(E_SHENTSIZE, 40, 2)]))
    reader("shentsize-0.o", "badHeader", "e_shentsize 0 is not 64", edited([(E_SHENTSIZE, 0, 2)]))

    # The section header table.
    for cut in (shoff, shoff + 1, shoff + 64 * 3 + 10, size - 1):
        where = (f"of {sections} entries at {shoff:#x}" if cut >= shoff + 64 else f"at {shoff:#x}")
        reader(f"trunc-shdrs-{cut:#x}.o", "outOfFile",
               f"section header table {where} lies outside the file ({cut:#x} bytes)", good[:cut])
    reader("shoff-past-end.o", "outOfFile",
           f"section header table at {size + 0x1000:#x} lies outside the file ({size:#x} bytes)",
           edited([(E_SHOFF, size + 0x1000, 8)]))
    reader("shoff-wraps.o", "outOfFile",
           f"section header table at 0xffffffffffffffc0 lies outside the file ({size:#x} bytes)",
           edited([(E_SHOFF, 0xFFFFFFFFFFFFFFC0, 8)]))
    reader("shnum-200.o", "outOfFile",
           f"section header table of 200 entries at {shoff:#x} lies outside the file "
           f"({size:#x} bytes)", edited([(E_SHNUM, 200, 2)]))
    reader("shnum-without-table.o", "badHeader",
           f"e_shnum is {sections} but there is no section header table", edited([(E_SHOFF, 0, 8)]))
    reader("shnum-extended-9.o", "badHeader", "extended section count 9 is below SHN_LORESERVE",
           edited([(E_SHNUM, 0, 2), (shoff + SH_SIZE, 9, 8)]))
    reader("shnum-extended-2e32.o", "outOfFile",
           f"section header table of 4294967296 entries at {shoff:#x} lies outside the file "
           f"({size:#x} bytes)", edited([(E_SHNUM, 0, 2), (shoff + SH_SIZE, 1 << 32, 8)]))
    reader("shstrndx-99.o", "badHeader",
           f"section name table index 99 is out of range ({sections} sections)",
           edited([(E_SHSTRNDX, 99, 2)]))
    reader("shstrndx-xindex-77.o", "badHeader",
           f"section name table index 77 is out of range ({sections} sections)",
           edited([(E_SHSTRNDX, SHN_XINDEX, 2), (shoff + SH_LINK, 77, 4)]))
    reader("shstrndx-text.o", "badSection", "section name table (section 1) is not SHT_STRTAB",
           edited([(E_SHSTRNDX, 1, 2)]))
    reader("shstrndx-zero.o", "badSection", "section name table (section 0) is not SHT_STRTAB",
           edited([(E_SHSTRNDX, 0, 2)]))
    reader("section0-allocated.o", "badSection",
           "section 0 is not a null section (sh_type 0x1, sh_flags 0x2)",
           edited([(shoff + SH_TYPE, SHT_PROGBITS, 4), (shoff + SH_FLAGS, SHF_ALLOC, 8),
                   (shoff + SH_OFFSET, 0x7FFF0000, 8), (shoff + SH_SIZE, 0x1000, 8)]))


def truncation_cases():
    # Section headers first and the name table's data next, so that cutting the file inside a
    # section leaves everything before it readable.
    spec = Spec()
    spec.headers_first, spec.data_first = True, [".shstrtab"]
    b = build(spec)
    for name in (".text", ".rela.text", ".data", ".symtab", ".strtab"):
        at, length = b.offset(name), b.size(name)
        cut = at + length // 2
        reader(f"trunc-in-{name.strip('.').replace('.', '-')}.o", "outOfFile",
               f"section {spec.index(name)} '{name}' data of {length:#x} bytes at {at:#x} lies "
               f"outside the file ({cut:#x} bytes)", b.bytes()[:cut])
    spec = Spec()
    spec.headers_first = True
    b = build(spec)
    at, length = b.offset(".shstrtab"), b.size(".shstrtab")
    cut = at + length - 3
    reader("trunc-in-shstrtab.o", "outOfFile",
           f"section name table (section 8) of {length:#x} bytes at {at:#x} lies outside the file "
           f"({cut:#x} bytes)", b.bytes()[:cut])


def section_cases():
    b = build()
    size = len(b.data)
    reader("data-past-end.o", "outOfFile",
           f"section 3 '.data' data of 0x4 bytes at {size + 0x10:#x} lies outside the file "
           f"({size:#x} bytes)", with_shdr(".data", SH_OFFSET, size + 0x10))
    reader("data-size-0x10000.o", "outOfFile",
           f"section 3 '.data' data of 0x10000 bytes at {b.offset('.data'):#x} lies outside the "
           f"file ({size:#x} bytes)", with_shdr(".data", SH_SIZE, 0x10000))
    reader("offset-plus-size-wraps.o", "outOfFile",
           f"section 1 '.text' data of 0x200 bytes at 0xffffffffffffff00 lies outside the file "
           f"({size:#x} bytes)", with_shdr(".text", SH_OFFSET, 0xFFFFFFFFFFFFFF00, SH_SIZE, 0x200))
    reader("text-size-2e63.o", "outOfFile",
           f"section 1 '.text' data of 0x8000000000000000 bytes at 0x40 lies outside the file "
           f"({size:#x} bytes)", with_shdr(".text", SH_SIZE, 1 << 63))
    reader("null-section-allocated.o", "outOfFile",
           f"section 5 '.note.GNU-stack' data of 0x1000 bytes at 0x7fff0000 lies outside the "
           f"file ({size:#x} bytes)",
           with_shdr(".note.GNU-stack", SH_TYPE, SHT_NULL, SH_FLAGS, SHF_ALLOC,
                     SH_OFFSET, 0x7FFF0000, SH_SIZE, 0x1000))
    reader("shstrtab-empty-far.o", "outOfFile",
           f"section name table (section 8) of 0x0 bytes at 0x8000000000000000 lies outside the "
           f"file ({size:#x} bytes)", with_shdr(".shstrtab", SH_OFFSET, 1 << 63, SH_SIZE, 0))
    reader("align-3.o", "badSection", "section 1 '.text' alignment 0x3 is not a power of two",
           with_shdr(".text", SH_ADDRALIGN, 3))
    reader("align-max.o", "badSection",
           "section 3 '.data' alignment 0xffffffffffffffff is not a power of two",
           with_shdr(".data", SH_ADDRALIGN, (1 << 64) - 1))
    reader("alloc-compressed.o", "badSection",
           "section 3 '.data' is allocated and compressed (SHF_COMPRESSED)",
           with_shdr(".data", SH_FLAGS, SHF_ALLOC | SHF_WRITE | SHF_COMPRESSED))
    spec = Spec()
    spec.section(".rela.text").type, spec.section(".rela.text").name = SHT_REL, ".rel.text"
    reader("rel-not-rela.o", "badSection",
           "section 2 '.rel.text' is SHT_REL; x86-64 objects use only SHT_RELA relocations",
           build(spec).bytes())
    spec = Spec()
    spec.sections.insert(4, Section(".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, bytes(16),
                                    align=8, entsize=16))
    reader("dynamic-section.o", "badSection",
           "section 5 '.dynamic' is a dynamic-linking section, not valid in ET_REL",
           build(spec).bytes())

    # Sizes and alignments the reader accepts and the linker refuses.
    too_large = ("{file}: section '.bss' of %s bytes makes the module larger than 0x40000000 "
                 "bytes")
    linker("bss-2e60.o", "tooLarge", too_large % "0x1000000000000000",
           with_shdr(".bss", SH_SIZE, 1 << 60))
    linker("bss-2e63.o", "tooLarge", too_large % "0x8000000000000000",
           with_shdr(".bss", SH_SIZE, 1 << 63))
    linker("bss-max.o", "tooLarge", too_large % "0xffffffffffffffff",
           with_shdr(".bss", SH_SIZE, (1 << 64) - 1))
    linker("align-2e40.o", "tooLarge",
           "{file}: section '.data' alignment 0x10000000000 exceeds 0x100000",
           with_shdr(".data", SH_ADDRALIGN, 1 << 40))
    linker("align-2e63.o", "tooLarge",
           "{file}: section '.bss' alignment 0x8000000000000000 exceeds 0x100000",
           with_shdr(".bss", SH_ADDRALIGN, 1 << 63))
    spec = Spec()
    spec.sections.insert(4, Section(".eh_frame", SHT_NOBITS, SHF_ALLOC, size=(1 << 64) - 16,
                                    align=8))
    linker("eh-frame-nobits-huge.o", "tooLarge",
           "{file}: section '.eh_frame' of 0xfffffffffffffff0 bytes makes the module larger "
           "than 0x40000000 bytes", build(spec).bytes())
    spec = Spec()
    spec.sections.insert(4, Section(".tbss", SHT_NOBITS, SHF_ALLOC | SHF_WRITE | SHF_TLS,
                                    size=8, align=8))
    linker("tls-section.o", "unsupportedFeature",
           "{file}: section '.tbss' holds thread-local variables (__thread), which are not "
           "supported", build(spec).bytes())


def link_and_info_cases():
    reader("symtab-link-text.o", "badSection",
           "symbol table section 6 '.symtab' sh_link 1 is not a string table",
           with_shdr(".symtab", SH_LINK, 1))
    reader("symtab-link-4000.o", "badSection",
           "symbol table section 6 '.symtab' sh_link 4000 is not a string table",
           with_shdr(".symtab", SH_LINK, 4000))
    reader("rela-link-strtab.o", "badSection",
           "relocation section 2 '.rela.text' sh_link 7 is not the symbol table",
           with_shdr(".rela.text", SH_LINK, 7))
    reader("rela-link-0.o", "badSection",
           "relocation section 2 '.rela.text' sh_link 0 is not the symbol table",
           with_shdr(".rela.text", SH_LINK, 0))
    reader("rela-info-9999.o", "badSection",
           "relocation section 2 '.rela.text' sh_info 9999 is not a valid section index",
           with_shdr(".rela.text", SH_INFO, 9999))
    reader("rela-info-0.o", "badSection",
           "relocation section 2 '.rela.text' sh_info 0 is not a valid section index",
           with_shdr(".rela.text", SH_INFO, 0))
    for index, name, kind in ((2, ".rela.text", "SHT_RELA"), (6, ".symtab", "SHT_SYMTAB"),
                              (4, ".bss", "SHT_NOBITS"), (7, ".strtab", "SHT_STRTAB")):
        label = "self" if index == 2 else name.strip(".")
        reader(f"rela-info-{label}.o", "badSection",
               f"relocation section 2 '.rela.text' applies to section {index} '{name}' ({kind}), "
               f"which relocations cannot patch", with_shdr(".rela.text", SH_INFO, index))
    reader("rela-entsize-16.o", "badSection",
           "relocation section 2 '.rela.text' entry size 16 is not 24",
           with_shdr(".rela.text", SH_ENTSIZE, 16))
    reader("rela-size-25.o", "badSection",
           "relocation section 2 '.rela.text' size 0x19 is not a multiple of 24",
           with_shdr(".rela.text", SH_SIZE, 25))


def string_cases():
    b = build()
    b.set(b.offset(".strtab") + b.size(".strtab") - 1, ord("x"), 1)
    reader("strtab-unterminated.o", "badStringTable",
           "symbol string table section 7 '.strtab' is not NUL-terminated", b.bytes())
    b = build()
    b.set(b.offset(".shstrtab") + b.size(".shstrtab") - 1, ord("x"), 1)
    reader("shstrtab-unterminated.o", "badStringTable",
           "section name table (section 8) is not NUL-terminated", b.bytes())
    b = build()
    reader("section-name-outside.o", "badStringTable",
           f"section 3 name offset 0x1000 is outside its string table "
           f"({b.size('.shstrtab'):#x} bytes)", with_shdr(".data", SH_NAME, 0x1000))
    b.set_symbol(6, ST_NAME, 0x7777, 4)
    reader("symbol-name-outside.o", "badStringTable",
           f"symbol 6 name offset 0x7777 is outside the string table ({b.size('.strtab'):#x} "
           f"bytes)", b.bytes())
    reader("strtab-empty.o", "badStringTable",
           "symbol 1 name offset 0x1 is outside the string table (0x0 bytes)",
           with_shdr(".strtab", SH_SIZE, 0))


def symbol_cases():
    b = build()
    b.set_symbol(7, ST_SHNDX, 50, 2)
    reader("symbol-shndx-50.o", "badSymbol",
           "symbol 7 'counter' section index 50 is out of range (9 sections)", b.bytes())
    b = build()
    b.set_symbol(7, ST_SHNDX, 0xFF05, 2)
    reader("symbol-shndx-reserved.o", "badSymbol",
           "symbol 7 'counter' uses reserved section index 0xff05", b.bytes())
    b = build()
    b.set_symbol(7, ST_SHNDX, SHN_XINDEX, 2)
    reader("xindex-without-shndx.o", "badSymbol",
           "symbol 7 'counter' uses SHN_XINDEX but there is no SHT_SYMTAB_SHNDX section",
           b.bytes())

    def with_shndx(entries, link=".symtab"):
        spec = Spec()
        spec.sections.insert(6, Section(".symtab_shndx", SHT_SYMTAB_SHNDX, data=entries,
                                        link=link, align=4, entsize=4))
        return spec

    spec = with_shndx(struct.pack("<9I", 0, 0, 0, 0, 0, 0, 0, 4000, 0))
    spec.symbols[7].shndx = SHN_XINDEX
    reader("xindex-4000.o", "badSymbol",
           "symbol 7 'counter' extended section index 4000 is out of range (10 sections)",
           build(spec).bytes())
    reader("shndx-8-for-9.o", "badSection",
           "section 7 '.symtab_shndx' (SHT_SYMTAB_SHNDX) has 8 entries for 9 symbols",
           build(with_shndx(bytes(32))).bytes())
    reader("shndx-link-text.o", "badSection",
           "section 7 '.symtab_shndx' (SHT_SYMTAB_SHNDX) sh_link 1 is not the symbol table",
           build(with_shndx(bytes(36), link=".text")).bytes())
    spec = Spec()
    spec.sections = [s for s in spec.sections if s.name not in (".symtab", ".rela.text")]
    spec.sections.insert(4, Section(".symtab_shndx", SHT_SYMTAB_SHNDX, data=bytes(4), align=4,
                                    entsize=4))
    reader("shndx-without-symtab.o", "badSection",
           "section 5 '.symtab_shndx' is SHT_SYMTAB_SHNDX but there is no symbol table",
           build(spec).bytes())
    reader("symtab-entsize-16.o", "badSection",
           "symbol table section 6 '.symtab' entry size 16 is not 24",
           with_shdr(".symtab", SH_ENTSIZE, 16))
    reader("symtab-size-0xd1.o", "badSection",
           "symbol table section 6 '.symtab' size 0xd1 is not a multiple of 24",
           with_shdr(".symtab", SH_SIZE, 0xD1))
    reader("symtab-info-50.o", "badSection",
           "symbol table section 6 '.symtab' sh_info 50 exceeds its 9 symbols",
           with_shdr(".symtab", SH_INFO, 50))
    b = build()
    b.set_symbol(6, ST_INFO, (STB_LOCAL << 4) | STT_FUNC, 1)
    reader("local-after-global.o", "badSymbol",
           "symbol 6 'helper' is local but follows the first global (sh_info 5)", b.bytes())
    b = build()
    b.set_symbol(6, ST_INFO, (3 << 4) | STT_FUNC, 1)
    reader("symbol-binding-3.o", "badSymbol",
           "symbol 6 'helper' binding 3 is not STB_LOCAL, STB_GLOBAL, STB_WEAK or STB_GNU_UNIQUE",
           b.bytes())
    spec = Spec()
    spec.sections.insert(6, Section(".symtab2", SHT_SYMTAB, data=bytes(24), link=".strtab",
                                    align=8, entsize=24))
    reader("two-symtabs.o", "badSection",
           "section 7 '.symtab2' is a second symbol table (SHT_SYMTAB)", build(spec).bytes())
    for align, label in ((0, "0"), (3, "3"), (1 << 21, "2e21")):
        spec = Spec()
        spec.symbols.append(Symbol("shared", STB_GLOBAL, STT_OBJECT, SHN_COMMON, align, 8))
        reader(f"common-align-{label}.o", "badSymbol",
               f"COMMON symbol 9 'shared' alignment {align:#x} is not a power of two up to "
               f"0x100000", build(spec).bytes())
    spec = Spec()
    spec.symbols.append(Symbol("shared", STB_GLOBAL, STT_OBJECT, SHN_COMMON, 8, 1 << 62))
    linker("common-size-2e62.o", "tooLarge",
           "COMMON symbol 'shared' of 0x4000000000000000 bytes is too large", build(spec).bytes())
    spec = Spec()
    spec.symbols.append(Symbol("tlsvar", STB_GLOBAL, STT_TLS, ".bss", 0, 4))
    # The linker without a static TLS reservation; lkmrun and the kernel have one and accept it.
    linker("tls-symbol.o", "unsupportedFeature",
           "{file}: thread-local symbol 'tlsvar' is not supported", build(spec).bytes())
    spec = Spec()
    spec.symbols[7].type = STT_GNU_IFUNC
    linker("ifunc-in-data.o", "malformedInput",
           "{file}: IFUNC symbol 'counter' is defined in section 3 '.data', which is not "
           "executable", build(spec).bytes())
    spec = Spec()
    spec.symbols.append(Symbol("in_strtab", STB_GLOBAL, STT_OBJECT, ".strtab", 0, 0))
    linker("global-in-strtab.o", "malformedInput",
           "{file}: global symbol 'in_strtab' is defined in section 7 '.strtab', which is not "
           "loaded (SHF_ALLOC is clear)", build(spec).bytes())


def relocation_cases():
    b = build()
    rela = b.offset(".rela.text")
    b.set(rela + 8 + 4, 999, 4)
    reader("rela-symbol-999.o", "badRelocation",
           "relocation section 2 '.rela.text' entry 0 names symbol 999, but there are 9 symbols",
           b.bytes())
    b = build()
    b.set(rela + 24, 0x100, 8)
    reader("rela-offset-0x100.o", "badRelocation",
           "relocation section 2 '.rela.text' entry 1 offset 0x100 is outside '.text' "
           "(0x10 bytes)", b.bytes())
    b = build()
    b.set(rela + 24, 0xFFFFFFFFFFFFFFFE, 8)
    reader("rela-offset-wraps.o", "badRelocation",
           "relocation section 2 '.rela.text' entry 1 offset 0xfffffffffffffffe is outside "
           "'.text' (0x10 bytes)", b.bytes())
    spec = Spec()
    spec.symbols = spec.symbols[:1]
    spec.relocations = [(0x7, R_X86_64_PC32, 0, 0)]
    b = build(spec)
    b.set_shdr(".symtab", SH_SIZE, 0)
    b.set_shdr(".symtab", SH_INFO, 0)
    reader("rela-empty-symtab.o", "badRelocation",
           "relocation section 2 '.rela.text' entry 0 names symbol 0, but there are 0 symbols",
           b.bytes())
    spec = Spec()
    spec.relocations.append((0xE, R_X86_64_PC32, "counter", -4))
    linker("rela-pc32-straddles-end.o", "malformedInput",
           "{file}:helper+0x2 (.text+0xe): R_X86_64_PC32 field of 4 bytes extends past the end "
           "of '.text' (0x10 bytes)", build(spec).bytes())
    spec = Spec()
    spec.relocations.append((0xA, R_X86_64_64, "counter", 0))
    linker("rela-64-straddles-end.o", "malformedInput",
           "{file}:main+0xa (.text+0xa): R_X86_64_64 field of 8 bytes extends past the end of "
           "'.text' (0x10 bytes)", build(spec).bytes())
    tls = ("is a thread-local storage relocation; thread-local variables (__thread) are not "
           "supported")
    dynamic = "is a dynamic relocation, not valid in a relocatable object"
    for type, message in (
        (200, "unknown relocation type 200 is not supported"),
        (0xFFFFFFFF, "unknown relocation type 4294967295 is not supported"),
        (43, "R_X86_64_CODE_4_GOTPCRELX is not supported"),
        (40, "R_X86_64_40 (deprecated) is not supported"),
        (19, f"R_X86_64_TLSGD {tls}"),
        (22, f"R_X86_64_GOTTPOFF {tls}"),
        (23, f"R_X86_64_TPOFF32 {tls}"),
        (5, f"R_X86_64_COPY {dynamic}"),
        (8, f"R_X86_64_RELATIVE {dynamic}"),
    ):
        spec = Spec()
        spec.relocations[1] = (0x7, type, "counter", -4)
        linker(f"rela-type-{type}.o", "unsupportedRelocation",
               f"{{file}}:main+0x7 (.text+0x7): {message} (against 'counter')",
               build(spec).bytes())


def group_cases():
    def group(members, link=".symtab", info=6, words=None):
        spec = Spec()
        if words is None:
            words = struct.pack(f"<{len(members) + 1}I", 1, *members)
        spec.sections.insert(0, Section(".group", SHT_GROUP, 0, words, link=link, info=info,
                                        align=4, entsize=4))
        return build(spec).bytes()

    # .group is section 1, so .text is 2 and .symtab 7; the signature is symbol 6, 'helper'.
    for member, label in ((0, "0"), (9999, "9999"), (1, "self")):
        reader(f"group-member-{label}.o", "badGroup",
               f"group section 1 '.group' member {member} is not a valid section index",
               group([2, member]))
    reader("group-signature-400.o", "badGroup",
           "group section 1 '.group' signature symbol 400 is out of range", group([2], info=400))
    reader("group-link-text.o", "badGroup",
           "group section 1 '.group' sh_link 2 is not the symbol table",
           group([2], link=".text"))
    reader("group-empty.o", "badGroup",
           "group section 1 '.group' size 0x0 is not a whole number of words",
           group([], words=b""))
    reader("group-size-6.o", "badGroup",
           "group section 1 '.group' size 0x6 is not a whole number of words",
           group([], words=b"\x01\0\0\0\x02\0"))


def archive_cases():
    base, helper = build().bytes(), helper_object()
    indexed = archive([("helper2.o", helper)], symbols=[("helper2", 0)])
    header = ar_header("base.o/", len(base))
    reader("ar-truncated-header.a", "badArchive",
           f"member header at {len(indexed):#x} is truncated (40 of 60 bytes)",
           indexed + header[:40])
    reader("ar-bad-terminator.a", "badArchive",
           "member header at 0x8 does not end in the ar terminator (found '!!')",
           b"!<arch>\n" + ar_header("helper2.o/", len(helper), terminator=b"!!") + helper)
    reader("ar-bad-size.a", "badArchive", "member header at 0x8 has an invalid size '12ab'",
           b"!<arch>\n" + ar_header("helper2.o/", 0, size_field="12ab") + helper)
    reader("ar-member-outside.a", "badArchive",
           f"member 'helper2.o' of 0x1869f bytes at 0x44 lies outside the archive "
           f"({8 + 60 + len(helper):#x} bytes)",
           b"!<arch>\n" + ar_header("helper2.o/", 0, size_field="99999") + helper)
    reader("ar-index-outside.a", "badArchive",
           "symbol index entry 'helper2' points at 0x7fff0000, not a member",
           archive([("helper2.o", helper)], symbols=[("helper2", 0)], index_offsets=[0x7FFF0000]))
    reader("ar-index-not-header.a", "badArchive",
           "symbol index entry 'helper2' points at 0x4a, not a member",
           archive([("helper2.o", helper)], symbols=[("helper2", 0)], index_offsets=[0x4A]))
    reader("ar-index-1000-entries.a", "badArchive",
           "symbol index of 1000 entries does not fit its 0x8 bytes",
           b"!<arch>\n" + ar_member("/", struct.pack(">II", 1000, 0x44))
           + ar_member("helper2.o/", helper))
    reader("ar-index-unterminated.a", "badArchive",
           "symbol index entry 0 has no NUL-terminated name",
           b"!<arch>\n" + ar_member("/", struct.pack(">II", 1, 0x50) + b"helper2")
           + ar_member("helper2.o/", helper))
    long_names = ar_member("//", b"helper2.o/\n")
    reader("ar-long-name-outside.a", "badArchive",
           f"member header at {8 + len(long_names):#x} names long name 0x190, outside the "
           f"long-name table (0xb bytes)",
           b"!<arch>\n" + long_names + ar_member("/400", helper))
    reader("ar-bsd-name-outside.a", "badArchive",
           "member header at 0x8 has an invalid BSD name '#1/99999'",
           b"!<arch>\n" + ar_member("#1/99999", helper))
    reader("ar-member-not-elf.a", "unsupportedFormat",
           "{file}(notes.txt): not an ELF file (bad magic)",
           archive([("helper2.o", helper), ("notes.txt", b"not an object\n")]))
    reader("ar-member-truncated.a", "truncated",
           "{file}(short.o): file of 40 bytes is shorter than an ELF64 header (64 bytes)",
           archive([("short.o", base[:40])]))
    reader("ar-member-bad-rela.a", "badRelocation",
           "{file}(helper2.o): relocation section 2 '.rela.text' entry 1 offset 0x100 is "
           "outside '.text' (0x10 bytes)", archive([("helper2.o", rela_offset_0x100(helper))]))
    reader("ar-thin.a", "unsupportedFormat", "is a thin ar archive, which is not supported",
           b"!<thin>\n" + ar_header("helper2.o/", len(helper)))
    # lkmrun pulls the member defining the entry point, so an indexed archive's bad member is
    # found by the link too.
    reader("ar-indexed-main-not-elf.a", "unsupportedFormat",
           "{file}(main.o): not an ELF file (bad magic)",
           archive([("helper2.o", helper), ("main.o", b"\0not an object\n")],
                   symbols=[("helper2", 0), ("main", 1)]))


def rela_offset_0x100(obj):
    """`obj` with its second relocation's offset set to 0x100."""
    data = bytearray(obj)
    shoff = struct.unpack_from("<Q", data, E_SHOFF)[0]
    rela = struct.unpack_from("<Q", data, shoff + 64 * 2 + SH_OFFSET)[0]
    struct.pack_into("<Q", data, rela + 24, 0x100)
    return bytes(data)


def control_cases():
    case("valid-base.o", "valid", "-", "", build().bytes())
    spec = Spec()
    spec.sections.append(Section(".rela.comment", SHT_RELA, SHF_INFO_LINK, RELA.pack(0x99, 2, 0),
                                 link=0, info=".comment", align=8, entsize=24))
    spec.sections.append(Section(".comment", SHT_PROGBITS, 0, b"x\0"))
    case("valid-nonalloc-rela.o", "valid", "-", "", build(spec).bytes())
    # A member whose .bss sh_offset is near Int.max (SHT_NOBITS has no bytes; the offset once
    # overflowed the member's base offset).
    case("valid-ar-bss-offset-huge.a", "valid", "-", "",
         archive([("far.o", with_shdr(".bss", SH_OFFSET, 0x7FFFFFFFFFFFFFFF))]))


def found_cases():
    """Inputs the fuzzers found (kept as found in Fixtures/sandbox/findings, where the sandbox
    test replays them too), under found-NAME, with what the reader or linker says now."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    directory = os.path.join(root, "Fixtures", "sandbox", "findings")

    def found(name, stage, code, message):
        with open(os.path.join(directory, name), "rb") as f:
            case("found-" + name, stage, code, message, f.read())

    # libFuzzer: an empty section-name table at an offset past Int.max trapped (the offset was
    # converted before the size was looked at).
    found("strtab-empty-huge-offset.o", "reader", "outOfFile",
          "section name table (section 20) of 0x0 bytes at 0xde000000000004d8 lies outside the "
          "file (0xaf8 bytes)")
    # modfuzz (before the hardened reader): a relocation section's offset far past the file
    # crashed the loader (SIGSEGV at address 0 in the reader).
    found("section-offset-past-file.o", "reader", "outOfFile",
          "section 2 '.rela.data.rel.local' data of 0xc0 bytes at 0x6261746d79732e00 lies outside "
          "the file (0x828 bytes)")


def make_cases():
    header_cases()
    truncation_cases()
    section_cases()
    link_and_info_cases()
    string_cases()
    symbol_cases()
    relocation_cases()
    group_cases()
    archive_cases()
    control_cases()
    found_cases()


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Fixtures", "malformed")
    os.makedirs(out, exist_ok=True)
    make_cases()
    for name in os.listdir(out):
        if name.endswith((".o", ".a")) and name not in CASES:
            os.remove(os.path.join(out, name))
    lines = [
        "# The malformed-input corpus, written by scripts/make-malformed.py (do not edit).",
        "# file<TAB>stage<TAB>code<TAB>message",
        "# stage  reader: ObjectFile/Archive init throws ELFError (code: its ELFError.Code);",
        "#        linker: the reader accepts the file and the link throws LinkError (code: its",
        "#        LinkError.Code, for people: the tests compare lkmrun's output only);",
        "#        valid: a control that `lkmrun -n` links silently (code and message are '-').",
        "# message: the single line `lkmrun -n FILE`, run in this directory, prints on stderr,",
        "#          without its 'lkmrun: ' prefix; for reader files, also the ELFError's description.",
    ]
    for name in sorted(CASES):
        stage, code, line, data = CASES[name]
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        lines.append(f"{name}\t{stage}\t{code or '-'}\t{line}")
    with open(os.path.join(out, "expected.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{len(CASES)} files in {out}")


if __name__ == "__main__":
    main()
