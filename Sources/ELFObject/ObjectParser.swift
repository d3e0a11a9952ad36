// The only file that calls libelf (Archive.swift reads the ar format itself). The Elf handle
// opened here never outlives parse(); what leaves is Swift values.
internal import CLibELF
import LKMBase

let libelfReady: Bool = { elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE) }()

/// What a parse found: where each validated table lies in the bytes.
struct ParsedObject {
  var sectionCount = 0
  var sectionHeaders = 0
  var sectionNames: (offset: Int, size: Int) = (0, 0)
  var symbolCount = 0
  var symbolEntries = 0
  var extendedIndexes: Int?
  var relocations: [RelocationSection] = []
  var groups: [Group] = []
  var stringTable: (offset: Int, size: Int) = (0, 0)
}

/// One section header as the parser checks it (read through libelf, or in place once libelf
/// has validated the table).
struct RawSection {
  var name: UInt32
  var type: UInt32
  var flags: UInt64
  var offset: UInt64
  var size: UInt64
  var link: UInt32
  var info: UInt32
  var alignment: UInt64
  var entrySize: UInt64

  var isAllocated: Bool { flags & SectionFlags.alloc != 0 }
  var isNoBits: Bool { type == SectionType.nobits }
}

/// Validates and parses one ET_REL object with libelf.
struct ObjectParser {
  let bytes: FileBytes
  let start: Int
  let count: Int
  let name: String

  init(bytes: FileBytes, offset: Int, count: Int, name: String) {
    self.bytes = bytes
    self.start = offset
    self.count = count
    self.name = name
  }

  func fail(_ code: ELFError.Code, _ message: String) -> ELFError {
    ELFError(code, file: name, message)
  }

  func libelfFailure(_ what: String) -> ELFError {
    let text = unsafe elf_errmsg(-1).map { unsafe String(cString: $0) } ?? "unknown error"
    return fail(.libelf, "\(what): \(text.lowercased())")
  }

  /// Whether `[offset, offset + length)` lies inside this object's bytes.
  func inFile(_ offset: UInt64, _ length: UInt64) -> Bool {
    offset <= UInt64(count) && length <= UInt64(count) - offset
  }

  func u16(_ at: Int) -> UInt16 { bytes.load(UInt16.self, at: start + at) }
  func u32(_ at: Int) -> UInt32 { bytes.load(UInt32.self, at: start + at) }
  func u64(_ at: Int) -> UInt64 { bytes.load(UInt64.self, at: start + at) }

  /// Checks the ELF header and the section table's place from the raw header bytes, so that
  /// every problem gets its own message before libelf sees the file.
  func checkHeader() throws(ELFError) {
    guard count >= 4 else {
      throw fail(.truncated, "file of \(count) bytes is too short to be an ELF object")
    }
    let magic = u32(0)
    guard magic == 0x464c_457f else {
      if count >= 8, bytes.load(UInt64.self, at: start) == 0x0a3e_6863_7261_3c21 {
        throw fail(.unsupportedFormat, "is an ar archive, not an object")
      }
      if count >= 8, bytes.load(UInt64.self, at: start) == 0x0a3e_6e69_6874_3c21 {
        throw fail(.unsupportedFormat, "is a thin ar archive, which is not supported")
      }
      throw fail(.unsupportedFormat, "not an ELF file (bad magic)")
    }
    guard count >= 64 else {
      throw fail(.truncated, "file of \(count) bytes is shorter than an ELF64 header (64 bytes)")
    }
    let ident = unsafe (bytes.base + start).assumingMemoryBound(to: UInt8.self)
    guard unsafe ident[4] == 2 else {
      let name = unsafe [0: " (ELFCLASSNONE)", 1: " (ELFCLASS32)"][ident[4]] ?? ""
      throw fail(.unsupportedFormat, unsafe "ELF class \(ident[4])\(name) is not ELFCLASS64")
    }
    guard unsafe ident[5] == 1 else {
      let name = unsafe [0: " (ELFDATANONE)", 2: " (ELFDATA2MSB, big-endian)"][ident[5]] ?? ""
      throw fail(
        .unsupportedFormat, unsafe "ELF data encoding \(ident[5])\(name) is not ELFDATA2LSB")
    }
    guard unsafe ident[6] == 1 else {
      throw fail(.badHeader, unsafe "ELF ident version \(ident[6]) is not 1")
    }
    let type = u16(16)
    let machine = u16(18)
    guard type == 1 else {
      let kind =
        switch type {
        case 2: "an executable (ET_EXEC)"
        case 3: "a shared object or PIE (ET_DYN)"
        case 4: "a core file (ET_CORE)"
        default: "of type \(type)"
        }
      throw fail(.unsupportedFormat, "is \(kind), not a relocatable object (ET_REL)")
    }
    guard machine == 62 else {
      let name = ObjectParser.machineNames[machine].map { " (\($0))" } ?? ""
      throw fail(.unsupportedFormat, "machine \(machine)\(name) is not x86-64 (EM_X86_64 = 62)")
    }
    guard u32(20) == 1 else { throw fail(.badHeader, "e_version \(u32(20)) is not 1") }
    guard u16(52) == 64 else { throw fail(.badHeader, "e_ehsize \(u16(52)) is not 64") }
    let shoff = u64(40)
    var shnum = UInt64(u16(60))
    let shentsize = u16(58)
    if shoff == 0 {
      guard shnum == 0 else {
        throw fail(.badHeader, "e_shnum is \(shnum) but there is no section header table")
      }
      return
    }
    guard shentsize == 64 else {
      throw fail(.badHeader, "e_shentsize \(shentsize) is not 64")
    }
    guard inFile(shoff, 64) else {
      throw fail(
        .outOfFile,
        "section header table at \(hex(shoff)) lies outside the file (\(hex(count)) bytes)")
    }
    if shnum == 0 {
      // Extended numbering: section 0's sh_size holds the count.
      shnum = u64(Int(shoff) + 32)
      guard shnum >= UInt64(SectionIndex.loReserve) || shnum == 0 else {
        throw fail(.badHeader, "extended section count \(shnum) is below SHN_LORESERVE")
      }
    }
    guard shnum <= UInt64(count) / 64, inFile(shoff, shnum * 64) else {
      throw fail(
        .outOfFile,
        "section header table of \(shnum) entries at \(hex(shoff)) lies outside the file "
          + "(\(hex(count)) bytes)")
    }
    var shstrndx = UInt64(u16(62))
    if shstrndx == UInt64(SectionIndex.xindex) { shstrndx = UInt64(u32(Int(shoff) + 40)) }
    guard shstrndx < shnum else {
      throw fail(
        .badHeader, "section name table index \(shstrndx) is out of range (\(shnum) sections)")
    }
  }

  /// `EM_*` names of the machines an object is most likely to be for instead.
  static let machineNames: [UInt16: String] = [
    3: "EM_386", 8: "EM_MIPS", 20: "EM_PPC", 21: "EM_PPC64", 22: "EM_S390", 40: "EM_ARM",
    43: "EM_SPARCV9", 50: "EM_IA_64", 183: "EM_AARCH64", 243: "EM_RISCV", 247: "EM_BPF",
    258: "EM_LOONGARCH",
  ]

  /// `SHT_*` names, for messages.
  static func typeName(_ type: UInt32) -> String {
    switch type {
    case SectionType.null: "SHT_NULL"
    case SectionType.progbits: "SHT_PROGBITS"
    case SectionType.symtab: "SHT_SYMTAB"
    case SectionType.strtab: "SHT_STRTAB"
    case SectionType.rela: "SHT_RELA"
    case SectionType.nobits: "SHT_NOBITS"
    case SectionType.rel: "SHT_REL"
    case SectionType.group: "SHT_GROUP"
    case SectionType.symtabShndx: "SHT_SYMTAB_SHNDX"
    default: "type \(hex(type))"
    }
  }

  /// Section `index`'s header, read in place (the table was validated by ``checkHeader()``).
  func raw(_ index: Int, table: Int) -> RawSection {
    let at = table + index * 64
    func u32(_ field: Int) -> UInt32 { bytes.load(UInt32.self, at: at + field) }
    func u64(_ field: Int) -> UInt64 { bytes.load(UInt64.self, at: at + field) }
    return RawSection(
      name: u32(0), type: u32(4), flags: u64(8), offset: u64(24), size: u64(32), link: u32(40),
      info: u32(44), alignment: u64(48) == 0 ? 1 : u64(48), entrySize: u64(56))
  }

  func raw(_ shdr: GElf_Shdr) -> RawSection {
    RawSection(
      name: shdr.sh_name, type: shdr.sh_type, flags: shdr.sh_flags, offset: shdr.sh_offset,
      size: shdr.sh_size, link: shdr.sh_link, info: shdr.sh_info,
      alignment: shdr.sh_addralign == 0 ? 1 : shdr.sh_addralign, entrySize: shdr.sh_entsize)
  }

  /// The name of a section for messages (its name offset was validated).
  func sectionName(_ h: RawSection, _ names: (offset: Int, size: Int)) -> String {
    guard Int(h.name) < names.size else { return "" }
    return unsafe String(
      cString: (bytes.base + names.offset + Int(h.name)).assumingMemoryBound(to: CChar.self))
  }

  func header(_ elf: OpaquePointer, _ index: Int) throws(ELFError) -> RawSection {
    guard let scn = unsafe elf_getscn(elf, index) else {
      throw libelfFailure("cannot read section header \(index)")
    }
    var shdr = GElf_Shdr()
    guard unsafe gelf_getshdr(scn, &shdr) != nil else {
      throw libelfFailure("cannot read section header \(index)")
    }
    return raw(shdr)
  }

  func parse() throws(ELFError) -> ParsedObject {
    precondition(libelfReady, "libelf refused EV_CURRENT")
    try checkHeader()
    let image = unsafe UnsafeMutableRawPointer(mutating: bytes.base + start)
      .assumingMemoryBound(to: CChar.self)
    guard let elf = unsafe elf_memory(image, count) else {
      throw libelfFailure("libelf cannot open it")
    }
    defer { unsafe elf_end(elf) }
    guard unsafe elf_kind(elf) == ELF_K_ELF else {
      throw fail(.unsupportedFormat, "not an ELF object")
    }

    var result = ParsedObject()
    var shnum = 0
    guard unsafe elf_getshdrnum(elf, &shnum) == 0 else {
      throw libelfFailure("cannot count sections")
    }
    var shstrndx = 0
    if shnum > 0 {
      guard unsafe elf_getshdrstrndx(elf, &shstrndx) == 0 else {
        throw libelfFailure("cannot find the section name table")
      }
    }
    result.sectionCount = shnum
    result.sectionHeaders = start + Int(u64(40))

    let names: (offset: Int, size: Int)
    if shnum > 0 {
      // Section 0 holds only the extended counts (sh_size, sh_link, sh_info).
      let zero = unsafe try header(elf, 0)
      guard zero.type == SectionType.null && zero.flags == 0 else {
        throw fail(
          .badSection,
          "section 0 is not a null section (sh_type \(hex(zero.type)), sh_flags "
            + "\(hex(zero.flags)))")
      }
      let table = unsafe try header(elf, shstrndx)
      guard table.type == SectionType.strtab else {
        throw fail(.badSection, "section name table (section \(shstrndx)) is not SHT_STRTAB")
      }
      names = try stringTable(table, label: "section name table (section \(shstrndx))")
    } else {
      names = (0, 0)
    }
    result.sectionNames = names

    // Every section through libelf: bounds, alignment, types.
    var symtabIndex: Int?
    var shndxIndex: Int?
    var relocationIndexes: [Int] = []
    var groupIndexes: [Int] = []
    for index in 1..<max(shnum, 1) {
      let h = unsafe try header(elf, index)
      guard Int(h.name) < names.size else {
        throw fail(
          .badStringTable,
          "section \(index) name offset \(hex(h.name)) is outside its string table "
            + "(\(hex(names.size)) bytes)")
      }
      var label: String { "section \(index) '\(sectionName(h, names))'" }
      // Every section but SHT_NOBITS has its bytes in the file, SHT_NULL too: an allocated one
      // would be copied into the module.
      if h.type != SectionType.nobits {
        guard inFile(h.offset, h.size) else {
          throw fail(
            .outOfFile,
            "\(label) data of \(hex(h.size)) bytes at \(hex(h.offset)) lies outside the "
              + "file (\(hex(count)) bytes)")
        }
      }
      let align = h.alignment
      guard align & (align - 1) == 0 else {
        throw fail(.badSection, "\(label) alignment \(hex(align)) is not a power of two")
      }
      if h.flags & SectionFlags.alloc != 0 && h.flags & SectionFlags.compressed != 0 {
        throw fail(.badSection, "\(label) is allocated and compressed (SHF_COMPRESSED)")
      }
      switch h.type {
      case SectionType.symtab:
        guard symtabIndex == nil else {
          throw fail(.badSection, "\(label) is a second symbol table (SHT_SYMTAB)")
        }
        symtabIndex = index
      case SectionType.symtabShndx:
        shndxIndex = index
      case SectionType.rel:
        throw fail(
          .badSection, "\(label) is SHT_REL; x86-64 objects use only SHT_RELA relocations")
      case SectionType.dynamic, SectionType.dynsym, SectionType.hash:
        throw fail(.badSection, "\(label) is a dynamic-linking section, not valid in ET_REL")
      case SectionType.rela: relocationIndexes.append(index)
      case SectionType.group: groupIndexes.append(index)
      default: break
      }
    }

    // The table is validated: from here on, headers are read in place.
    let table = result.sectionHeaders
    // Symbols.
    if let symtabIndex {
      try parseSymbols(index: symtabIndex, shndx: shndxIndex, table: table, into: &result)
    } else if let shndxIndex {
      throw fail(
        .badSection,
        "section \(shndxIndex) '\(sectionName(raw(shndxIndex, table: table), names))' is "
          + "SHT_SYMTAB_SHNDX but there is no symbol table")
    }

    // Relocations and groups, in section order.
    var r = 0
    var g = 0
    while r < relocationIndexes.count || g < groupIndexes.count {
      if g == groupIndexes.count
        || (r < relocationIndexes.count && relocationIndexes[r] < groupIndexes[g])
      {
        try parseRelocations(index: relocationIndexes[r], symtab: symtabIndex, into: &result)
        r += 1
      } else {
        try parseGroup(index: groupIndexes[g], symtab: symtabIndex, into: &result)
        g += 1
      }
    }
    return result
  }

  /// `symbol N 'name'` (or `symbol N` when unnamed), for messages; `nameOffset` was validated.
  func symbolLabel(_ i: Int, _ nameOffset: UInt32, _ table: (offset: Int, size: Int)) -> String {
    guard nameOffset != 0 && Int(nameOffset) < table.size else { return "symbol \(i)" }
    let name = unsafe String(
      cString: (bytes.base + table.offset + Int(nameOffset)).assumingMemoryBound(to: CChar.self))
    return "symbol \(i) '\(name)'"
  }

  /// Validates a string table: inside the file, and NUL-terminated. The label is made only for
  /// a message (two per parsed object otherwise: 0.2 M instructions of a warm SQLite link).
  func stringTable(_ h: RawSection, label: @autoclosure () -> String) throws(ELFError) -> (
    offset: Int, size: Int
  ) {
    guard inFile(h.offset, h.size) else {
      throw fail(
        .outOfFile,
        "\(label()) of \(hex(h.size)) bytes at \(hex(h.offset)) lies "
          + "outside the file (\(hex(count)) bytes)")
    }
    if h.size == 0 { return (start + Int(h.offset), 0) }
    let last = unsafe bytes.base.load(
      fromByteOffset: start + Int(h.offset) + Int(h.size) - 1, as: UInt8.self)
    guard last == 0 else {
      throw fail(.badStringTable, "\(label()) is not NUL-terminated")
    }
    return (start + Int(h.offset), Int(h.size))
  }

  func string(
    at offset: UInt32, in table: (offset: Int, size: Int), what: @autoclosure () -> String
  )
    throws(ELFError)
    -> String
  {
    guard Int(offset) < table.size else {
      throw fail(
        .badStringTable,
        "\(what()) offset \(hex(offset)) is outside its string table (\(hex(table.size)) bytes)")
    }
    return unsafe String(
      cString: (bytes.base + table.offset + Int(offset)).assumingMemoryBound(to: CChar.self))
  }

  func parseSymbols(index: Int, shndx: Int?, table headers: Int, into result: inout ParsedObject)
    throws(ELFError)
  {
    let names = result.sectionNames
    let table = raw(index, table: headers)
    var label: String { "symbol table section \(index) '\(sectionName(table, names))'" }
    guard table.entrySize == 24 || table.entrySize == 0 else {
      throw fail(.badSection, "\(label) entry size \(table.entrySize) is not 24")
    }
    guard table.size % 24 == 0 else {
      throw fail(.badSection, "\(label) size \(hex(table.size)) is not a multiple of 24")
    }
    let sectionCount = result.sectionCount
    guard Int(table.link) < sectionCount,
      Int(table.link) != 0 && raw(Int(table.link), table: headers).type == SectionType.strtab
    else {
      throw fail(.badSection, "\(label) sh_link \(table.link) is not a string table")
    }
    let count = Int(table.size / 24)
    guard table.info <= count else {
      throw fail(.badSection, "\(label) sh_info \(table.info) exceeds its \(count) symbols")
    }
    let strtabHeader = raw(Int(table.link), table: headers)
    result.stringTable = try stringTable(
      strtabHeader,
      label:
        "symbol string table section \(table.link) '\(sectionName(strtabHeader, names))'")

    var extended: Int?
    if let shndx {
      let s = raw(shndx, table: headers)
      guard Int(s.link) == index else {
        throw fail(
          .badSection,
          "section \(shndx) '\(sectionName(s, names))' (SHT_SYMTAB_SHNDX) sh_link \(s.link) is "
            + "not the symbol table"
        )
      }
      guard s.size == UInt64(count) * 4 else {
        throw fail(
          .badSection,
          "section \(shndx) '\(sectionName(s, names))' (SHT_SYMTAB_SHNDX) has \(s.size / 4) "
            + "entries for \(count) symbols")
      }
      extended = start + Int(s.offset)
    }

    let raw = start + Int(table.offset)
    let strings = result.stringTable
    let stringSize = strings.size
    for i in 0..<count {
      let base = raw + i * 24
      let nameOffset = bytes.load(UInt32.self, at: base)
      let info = bytes.load(UInt8.self, at: base + 4)
      var shndxValue = UInt32(bytes.load(UInt16.self, at: base + 6))
      let value = bytes.load(UInt64.self, at: base + 8)
      guard Int(nameOffset) < max(stringSize, 1) || nameOffset == 0 else {
        throw fail(
          .badStringTable,
          "symbol \(i) name offset \(hex(nameOffset)) is outside the string table "
            + "(\(hex(stringSize)) bytes)"
        )
      }
      if shndxValue == SectionIndex.xindex {
        guard let extended else {
          throw fail(
            .badSymbol,
            "\(symbolLabel(i, nameOffset, strings)) uses SHN_XINDEX but there is no "
              + "SHT_SYMTAB_SHNDX section")
        }
        shndxValue = bytes.load(UInt32.self, at: extended + i * 4)
        guard shndxValue != 0 && Int(shndxValue) < sectionCount else {
          throw fail(
            .badSymbol,
            "\(symbolLabel(i, nameOffset, strings)) extended section index \(shndxValue) is out of "
              + "range (\(sectionCount) sections)")
        }
      } else {
        switch shndxValue {
        case SectionIndex.undefined, SectionIndex.absolute: break
        case SectionIndex.common:
          guard value != 0 && value & (value - 1) == 0 && value <= 1 << 20 else {
            throw fail(
              .badSymbol,
              "COMMON \(symbolLabel(i, nameOffset, strings)) alignment \(hex(value)) is not a "
                + "power of two up to 0x100000"
            )
          }
        default:
          guard shndxValue < SectionIndex.loReserve else {
            throw fail(
              .badSymbol,
              "\(symbolLabel(i, nameOffset, strings)) uses reserved section index "
                + "\(hex(shndxValue))"
            )
          }
          guard Int(shndxValue) < sectionCount else {
            throw fail(
              .badSymbol,
              "\(symbolLabel(i, nameOffset, strings)) section index \(shndxValue) is out of "
                + "range (\(sectionCount) sections)"
            )
          }
        }
      }
      let binding = info >> 4
      guard binding <= SymbolBinding.weak || binding == SymbolBinding.gnuUnique else {
        throw fail(
          .badSymbol,
          "\(symbolLabel(i, nameOffset, strings)) binding \(binding) is not STB_LOCAL, "
            + "STB_GLOBAL, STB_WEAK or STB_GNU_UNIQUE")
      }
      if i >= Int(table.info) && binding == SymbolBinding.local && i != 0 {
        throw fail(
          .badSymbol,
          "\(symbolLabel(i, nameOffset, strings)) is local but follows the first global "
            + "(sh_info \(table.info))"
        )
      }
    }
    result.symbolCount = count
    result.symbolEntries = raw
    result.extendedIndexes = extended
  }

  func parseRelocations(index: Int, symtab: Int?, into result: inout ParsedObject)
    throws(ELFError)
  {
    let headers = result.sectionHeaders
    let names = result.sectionNames
    let section = raw(index, table: headers)
    var label: String { "relocation section \(index) '\(sectionName(section, names))'" }
    guard section.entrySize == 24 || section.entrySize == 0 else {
      throw fail(.badSection, "\(label) entry size \(section.entrySize) is not 24")
    }
    guard section.size % 24 == 0 else {
      throw fail(.badSection, "\(label) size \(hex(section.size)) is not a multiple of 24")
    }
    guard section.info != 0, Int(section.info) < result.sectionCount else {
      throw fail(.badSection, "\(label) sh_info \(section.info) is not a valid section index")
    }
    let target = raw(Int(section.info), table: headers)
    switch target.type {
    case SectionType.null, SectionType.symtab, SectionType.strtab, SectionType.rela,
      SectionType.nobits, SectionType.group, SectionType.symtabShndx:
      throw fail(
        .badSection,
        "\(label) applies to section \(section.info) '\(sectionName(target, names))' "
          + "(\(ObjectParser.typeName(target.type))), which relocations cannot patch")
    default: break
    }
    // Relocations for non-allocated sections (.debug_*) are not needed to load; skip them.
    guard target.isAllocated else { return }
    guard let symtab, Int(section.link) == symtab else {
      throw fail(.badSection, "\(label) sh_link \(section.link) is not the symbol table")
    }
    let count = Int(section.size / 24)
    let entries = start + Int(section.offset)
    let symbolCount = UInt32(result.symbolCount)
    let limit = target.size
    for i in 0..<count {
      let base = entries + i * 24
      let offset = bytes.load(UInt64.self, at: base)
      let symbol = bytes.load(UInt32.self, at: base + 12)
      guard symbol < symbolCount else {
        throw fail(
          .badRelocation,
          "\(label) entry \(i) names symbol \(symbol), but there are \(symbolCount) symbols")
      }
      guard offset < limit else {
        throw fail(
          .badRelocation,
          "\(label) entry \(i) offset \(hex(offset)) is outside '\(sectionName(target, names))' "
            + "(\(hex(limit)) bytes)"
        )
      }
    }
    result.relocations.append(
      RelocationSection(
        index: index, target: Int(section.info),
        entries: RelocationList(bytes: bytes, offset: entries, count: count)))
  }

  func parseGroup(index: Int, symtab: Int?, into result: inout ParsedObject) throws(ELFError) {
    let headers = result.sectionHeaders
    let names = result.sectionNames
    let section = raw(index, table: headers)
    var label: String { "group section \(index) '\(sectionName(section, names))'" }
    guard let symtab, Int(section.link) == symtab else {
      throw fail(.badGroup, "\(label) sh_link \(section.link) is not the symbol table")
    }
    guard Int(section.info) < result.symbolCount else {
      throw fail(.badGroup, "\(label) signature symbol \(section.info) is out of range")
    }
    guard section.size >= 4 && section.size % 4 == 0 else {
      throw fail(.badGroup, "\(label) size \(hex(section.size)) is not a whole number of words")
    }
    let words = start + Int(section.offset)
    let flags = bytes.load(UInt32.self, at: words)
    var members: [Int] = []
    for i in 1..<Int(section.size / 4) {
      let member = Int(bytes.load(UInt32.self, at: words + i * 4))
      guard member > 0 && member < result.sectionCount && member != index else {
        throw fail(.badGroup, "\(label) member \(member) is not a valid section index")
      }
      members.append(member)
    }
    // The signature symbol, read in place (the symbol table was validated).
    let symbol = result.symbolEntries + Int(section.info) * 24
    let nameOffset = bytes.load(UInt32.self, at: symbol)
    let type = bytes.load(UInt8.self, at: symbol + 4) & 0xf
    let signature: String
    if type == SymbolType.section {
      var shndx = Int(bytes.load(UInt16.self, at: symbol + 6))
      if shndx == Int(SectionIndex.xindex), let extended = result.extendedIndexes {
        shndx = Int(bytes.load(UInt32.self, at: extended + Int(section.info) * 4))
      } else if shndx >= Int(SectionIndex.loReserve) {
        shndx = 0
      }
      signature = shndx == 0 ? "" : sectionName(raw(shndx, table: headers), names)
    } else {
      signature = try string(at: nameOffset, in: result.stringTable, what: "group signature")
    }
    result.groups.append(
      Group(
        index: index, signature: signature, isComdat: flags & groupComdat != 0, members: members))
  }
}
