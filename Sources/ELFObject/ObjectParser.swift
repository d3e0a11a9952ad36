// The only file that calls libelf (Archive.swift reads the ar format itself). The Elf handle
// opened here never outlives parse(); what leaves is Swift values.
internal import CLibELF

let libelfReady: Bool = { elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE) }()

struct ParsedObject {
  var sections: [Section] = []
  var symbols: [Symbol] = []
  var relocations: [RelocationSection] = []
  var groups: [Group] = []
  var stringTable: (offset: Int, size: Int) = (0, 0)
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
    let text = elf_errmsg(-1).map { String(cString: $0) } ?? "unknown error"
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
    let ident = (bytes.base + start).assumingMemoryBound(to: UInt8.self)
    guard ident[4] == 2 else {
      let name = [0: " (ELFCLASSNONE)", 1: " (ELFCLASS32)"][ident[4]] ?? ""
      throw fail(.unsupportedFormat, "ELF class \(ident[4])\(name) is not ELFCLASS64")
    }
    guard ident[5] == 1 else {
      let name = [0: " (ELFDATANONE)", 2: " (ELFDATA2MSB, big-endian)"][ident[5]] ?? ""
      throw fail(.unsupportedFormat, "ELF data encoding \(ident[5])\(name) is not ELFDATA2LSB")
    }
    guard ident[6] == 1 else { throw fail(.badHeader, "ELF ident version \(ident[6]) is not 1") }
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

  func parse() throws(ELFError) -> ParsedObject {
    precondition(libelfReady, "libelf refused EV_CURRENT")
    try checkHeader()
    let image = UnsafeMutableRawPointer(mutating: bytes.base + start)
      .assumingMemoryBound(to: CChar.self)
    guard let elf = elf_memory(image, count) else { throw libelfFailure("libelf cannot open it") }
    defer { elf_end(elf) }
    guard elf_kind(elf) == ELF_K_ELF else { throw fail(.unsupportedFormat, "not an ELF object") }

    var result = ParsedObject()
    var shnum = 0
    guard elf_getshdrnum(elf, &shnum) == 0 else { throw libelfFailure("cannot count sections") }
    var shstrndx = 0
    if shnum > 0 {
      guard elf_getshdrstrndx(elf, &shstrndx) == 0 else {
        throw libelfFailure("cannot find the section name table")
      }
    }

    // Pass 1: raw headers, bounds.
    var headers: [GElf_Shdr] = []
    headers.reserveCapacity(shnum)
    for index in 0..<shnum {
      guard let scn = elf_getscn(elf, index) else {
        throw libelfFailure("cannot read section header \(index)")
      }
      var shdr = GElf_Shdr()
      guard gelf_getshdr(scn, &shdr) != nil else {
        throw libelfFailure("cannot read section header \(index)")
      }
      headers.append(shdr)
    }
    if shnum > 0 {
      // Section 0 holds only the extended counts (sh_size, sh_link, sh_info).
      let zero = headers[0]
      guard zero.sh_type == SectionType.null && zero.sh_flags == 0 else {
        throw fail(
          .badSection,
          "section 0 is not a null section (sh_type \(hex(zero.sh_type)), sh_flags "
            + "\(hex(zero.sh_flags)))")
      }
    }
    let names: (offset: Int, size: Int)
    if shnum > 0 {
      let table = headers[shstrndx]
      guard table.sh_type == SectionType.strtab else {
        throw fail(.badSection, "section name table (section \(shstrndx)) is not SHT_STRTAB")
      }
      names = try stringTable(table, label: "section name table (section \(shstrndx))")
    } else {
      names = (0, 0)
    }

    result.sections.reserveCapacity(shnum)
    var symtabIndex: Int?
    var shndxIndex: Int?
    for index in 0..<shnum {
      let h = headers[index]
      let sectionName =
        index == 0 ? "" : try string(at: h.sh_name, in: names, what: "section \(index) name")
      var label: String { "section \(index) '\(sectionName)'" }
      if index == 0 {
        result.sections.append(
          Section(
            name: "", type: SectionType.null, flags: 0, fileOffset: start, size: 0, link: 0,
            info: 0, alignment: 1, entrySize: 0))
        continue
      }
      // Every section but SHT_NOBITS has its bytes in the file, SHT_NULL too: an allocated one
      // would be copied into the module.
      let hasBytes = h.sh_type != SectionType.nobits
      if hasBytes {
        guard inFile(h.sh_offset, h.sh_size) else {
          throw fail(
            .outOfFile,
            "\(label) data of \(hex(h.sh_size)) bytes at \(hex(h.sh_offset)) lies outside the "
              + "file (\(hex(count)) bytes)")
        }
      }
      let align = h.sh_addralign == 0 ? 1 : h.sh_addralign
      guard align & (align - 1) == 0 else {
        throw fail(.badSection, "\(label) alignment \(hex(align)) is not a power of two")
      }
      if h.sh_flags & SectionFlags.alloc != 0 && h.sh_flags & SectionFlags.compressed != 0 {
        throw fail(.badSection, "\(label) is allocated and compressed (SHF_COMPRESSED)")
      }
      switch h.sh_type {
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
      default: break
      }
      result.sections.append(
        Section(
          name: sectionName, type: h.sh_type, flags: h.sh_flags,
          fileOffset: hasBytes ? start + Int(h.sh_offset) : start, size: h.sh_size,
          link: h.sh_link, info: h.sh_info, alignment: align, entrySize: h.sh_entsize))
    }

    // Symbols.
    if let symtabIndex {
      try parseSymbols(elf, index: symtabIndex, shndx: shndxIndex, into: &result)
    } else if let shndxIndex {
      throw fail(
        .badSection,
        "section \(shndxIndex) '\(result.sections[shndxIndex].name)' is SHT_SYMTAB_SHNDX but "
          + "there is no symbol table")
    }

    // Relocations and groups.
    for index in 0..<shnum {
      let section = result.sections[index]
      if section.type == SectionType.rela {
        try parseRelocations(elf, index: index, symtab: symtabIndex, into: &result)
      } else if section.type == SectionType.group {
        try parseGroup(elf, index: index, symtab: symtabIndex, into: &result)
      }
    }
    return result
  }

  /// `symbol N 'name'` (or `symbol N` when unnamed), for messages; `nameOffset` was validated.
  func symbolLabel(_ i: Int, _ nameOffset: UInt32, _ table: (offset: Int, size: Int)) -> String {
    guard nameOffset != 0 && Int(nameOffset) < table.size else { return "symbol \(i)" }
    let name = String(
      cString: (bytes.base + table.offset + Int(nameOffset)).assumingMemoryBound(to: CChar.self))
    return "symbol \(i) '\(name)'"
  }

  /// Validates a string table: inside the file, and NUL-terminated.
  func stringTable(_ h: GElf_Shdr, label: String) throws(ELFError) -> (offset: Int, size: Int) {
    guard inFile(h.sh_offset, h.sh_size) else {
      throw fail(
        .outOfFile,
        "\(label) of \(hex(h.sh_size)) bytes at \(hex(h.sh_offset)) lies "
          + "outside the file (\(hex(count)) bytes)")
    }
    if h.sh_size == 0 { return (start + Int(h.sh_offset), 0) }
    let last = bytes.base.load(
      fromByteOffset: start + Int(h.sh_offset) + Int(h.sh_size) - 1, as: UInt8.self)
    guard last == 0 else {
      throw fail(.badStringTable, "\(label) is not NUL-terminated")
    }
    return (start + Int(h.sh_offset), Int(h.sh_size))
  }

  func string(at offset: UInt32, in table: (offset: Int, size: Int), what: @autoclosure () -> String)
    throws(ELFError)
    -> String
  {
    guard Int(offset) < table.size else {
      throw fail(
        .badStringTable,
        "\(what()) offset \(hex(offset)) is outside its string table (\(hex(table.size)) bytes)")
    }
    return String(
      cString: (bytes.base + table.offset + Int(offset)).assumingMemoryBound(to: CChar.self))
  }

  func data(_ elf: OpaquePointer, _ index: Int, expecting entrySize: Int) throws(ELFError)
    -> UnsafeRawBufferPointer
  {
    guard let scn = elf_getscn(elf, index) else { throw libelfFailure("section \(index)") }
    guard let d = elf_getdata(scn, nil) else {
      throw libelfFailure("cannot read section \(index)")
    }
    guard d.pointee.d_size > 0, let buf = d.pointee.d_buf else {
      return UnsafeRawBufferPointer(start: nil, count: 0)
    }
    return UnsafeRawBufferPointer(start: buf, count: d.pointee.d_size / entrySize * entrySize)
  }

  func parseSymbols(
    _ elf: OpaquePointer, index: Int, shndx: Int?, into result: inout ParsedObject
  ) throws(ELFError) {
    let sections = result.sections
    let table = sections[index]
    var label: String { "symbol table section \(index) '\(table.name)'" }
    guard table.entrySize == 24 || table.entrySize == 0 else {
      throw fail(.badSection, "\(label) entry size \(table.entrySize) is not 24")
    }
    guard table.size % 24 == 0 else {
      throw fail(.badSection, "\(label) size \(hex(table.size)) is not a multiple of 24")
    }
    guard Int(table.link) < sections.count, sections[Int(table.link)].type == SectionType.strtab
    else {
      throw fail(.badSection, "\(label) sh_link \(table.link) is not a string table")
    }
    let count = Int(table.size / 24)
    guard table.info <= count else {
      throw fail(.badSection, "\(label) sh_info \(table.info) exceeds its \(count) symbols")
    }
    let strtabHeader = sections[Int(table.link)]
    var strtabRaw = GElf_Shdr()
    strtabRaw.sh_offset = UInt64(strtabHeader.fileOffset - start)
    strtabRaw.sh_size = strtabHeader.size
    result.stringTable = try stringTable(
      strtabRaw, label: "symbol string table section \(table.link) '\(strtabHeader.name)'")

    var extended: UnsafeRawBufferPointer?
    if let shndx {
      let s = sections[shndx]
      guard Int(s.link) == index else {
        throw fail(
          .badSection,
          "section \(shndx) '\(s.name)' (SHT_SYMTAB_SHNDX) sh_link \(s.link) is not the "
            + "symbol table"
        )
      }
      guard s.size == UInt64(count) * 4 else {
        throw fail(
          .badSection,
          "section \(shndx) '\(s.name)' (SHT_SYMTAB_SHNDX) has \(s.size / 4) entries for "
            + "\(count) symbols")
      }
      extended = UnsafeRawBufferPointer(start: bytes.base + s.fileOffset, count: Int(s.size))
    }

    let raw = try data(elf, index, expecting: 24)
    guard raw.count == count * 24 else { throw fail(.badSection, "\(label) cannot be read whole") }
    let strings = result.stringTable
    let stringSize = strings.size
    var symbols: [Symbol] = []
    symbols.reserveCapacity(count)
    for i in 0..<count {
      let base = i * 24
      let nameOffset = raw.loadUnaligned(fromByteOffset: base, as: UInt32.self)
      let info = raw.load(fromByteOffset: base + 4, as: UInt8.self)
      let other = raw.load(fromByteOffset: base + 5, as: UInt8.self)
      var shndxValue = UInt32(raw.loadUnaligned(fromByteOffset: base + 6, as: UInt16.self))
      let value = raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)
      let size = raw.loadUnaligned(fromByteOffset: base + 16, as: UInt64.self)
      guard Int(nameOffset) < max(stringSize, 1) || nameOffset == 0 else {
        throw fail(
          .badStringTable,
          "symbol \(i) name offset \(hex(nameOffset)) is outside the string table "
            + "(\(hex(stringSize)) bytes)"
        )
      }
      var fromExtended = false
      if shndxValue == SectionIndex.xindex {
        fromExtended = true
        guard let extended else {
          throw fail(
            .badSymbol,
            "\(symbolLabel(i, nameOffset, strings)) uses SHN_XINDEX but there is no "
              + "SHT_SYMTAB_SHNDX section")
        }
        shndxValue = extended.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)
        guard shndxValue != 0 && Int(shndxValue) < sections.count else {
          throw fail(
            .badSymbol,
            "\(symbolLabel(i, nameOffset, strings)) extended section index \(shndxValue) is out of "
              + "range (\(sections.count) sections)")
        }
      }
      let place: SymbolPlace
      switch shndxValue {
      case _ where fromExtended: place = .section(Int(shndxValue))
      case SectionIndex.undefined: place = .undefined
      case SectionIndex.absolute: place = .absolute
      case SectionIndex.common:
        place = .common
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
            "\(symbolLabel(i, nameOffset, strings)) uses reserved section index \(hex(shndxValue))"
          )
        }
        guard Int(shndxValue) < sections.count else {
          throw fail(
            .badSymbol,
            "\(symbolLabel(i, nameOffset, strings)) section index \(shndxValue) is out of range "
              + "(\(sections.count) sections)"
          )
        }
        place = .section(Int(shndxValue))
      }
      let binding = info >> 4
      let type = info & 0xf
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
      symbols.append(
        Symbol(
          nameOffset: nameOffset, value: value, size: size, binding: binding, type: type,
          other: other, place: place))
    }
    result.symbols = symbols
  }

  func parseRelocations(
    _ elf: OpaquePointer, index: Int, symtab: Int?, into result: inout ParsedObject
  ) throws(ELFError) {
    let sections = result.sections
    let section = sections[index]
    var label: String { "relocation section \(index) '\(section.name)'" }
    guard section.entrySize == 24 || section.entrySize == 0 else {
      throw fail(.badSection, "\(label) entry size \(section.entrySize) is not 24")
    }
    guard section.size % 24 == 0 else {
      throw fail(.badSection, "\(label) size \(hex(section.size)) is not a multiple of 24")
    }
    guard section.info != 0, Int(section.info) < sections.count else {
      throw fail(.badSection, "\(label) sh_info \(section.info) is not a valid section index")
    }
    let target = sections[Int(section.info)]
    switch target.type {
    case SectionType.null, SectionType.symtab, SectionType.strtab, SectionType.rela,
      SectionType.nobits, SectionType.group, SectionType.symtabShndx:
      throw fail(
        .badSection,
        "\(label) applies to section \(section.info) '\(target.name)' "
          + "(\(ObjectParser.typeName(target.type))), which relocations cannot patch")
    default: break
    }
    // Relocations for non-allocated sections (.debug_*) are not needed to load; skip them.
    guard target.isAllocated else { return }
    guard let symtab, Int(section.link) == symtab else {
      throw fail(.badSection, "\(label) sh_link \(section.link) is not the symbol table")
    }
    let count = Int(section.size / 24)
    let raw = try data(elf, index, expecting: 24)
    guard raw.count == count * 24 else { throw fail(.badSection, "\(label) cannot be read whole") }
    let symbolCount = UInt32(result.symbols.count)
    let limit = target.size
    var entries: [Relocation] = []
    entries.reserveCapacity(count)
    for i in 0..<count {
      let base = i * 24
      let offset = raw.loadUnaligned(fromByteOffset: base, as: UInt64.self)
      let info = raw.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)
      let addend = raw.loadUnaligned(fromByteOffset: base + 16, as: Int64.self)
      let symbol = UInt32(truncatingIfNeeded: info >> 32)
      guard symbol < symbolCount else {
        throw fail(
          .badRelocation,
          "\(label) entry \(i) names symbol \(symbol), but there are \(symbolCount) symbols")
      }
      guard offset < limit else {
        throw fail(
          .badRelocation,
          "\(label) entry \(i) offset \(hex(offset)) is outside '\(target.name)' "
            + "(\(hex(limit)) bytes)"
        )
      }
      entries.append(
        Relocation(
          offset: offset, type: UInt32(truncatingIfNeeded: info), symbolIndex: symbol,
          addend: addend))
    }
    result.relocations.append(
      RelocationSection(index: index, target: Int(section.info), entries: entries))
  }

  func parseGroup(
    _ elf: OpaquePointer, index: Int, symtab: Int?, into result: inout ParsedObject
  ) throws(ELFError) {
    let section = result.sections[index]
    var label: String { "group section \(index) '\(section.name)'" }
    guard let symtab, Int(section.link) == symtab else {
      throw fail(.badGroup, "\(label) sh_link \(section.link) is not the symbol table")
    }
    guard Int(section.info) < result.symbols.count else {
      throw fail(.badGroup, "\(label) signature symbol \(section.info) is out of range")
    }
    guard section.size >= 4 && section.size % 4 == 0 else {
      throw fail(.badGroup, "\(label) size \(hex(section.size)) is not a whole number of words")
    }
    let words = UnsafeRawBufferPointer(
      start: bytes.base + section.fileOffset, count: Int(section.size))
    let flags = words.loadUnaligned(as: UInt32.self)
    var members: [Int] = []
    for i in 1..<Int(section.size / 4) {
      let member = Int(words.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
      guard member > 0 && member < result.sections.count && member != index else {
        throw fail(.badGroup, "\(label) member \(member) is not a valid section index")
      }
      members.append(member)
    }
    let symbolNameOffset = result.symbols[Int(section.info)].nameOffset
    let signature =
      result.symbols[Int(section.info)].type == SymbolType.section
      ? result.sections[symbolPlaceIndex(result.symbols[Int(section.info)])].name
      : try string(at: symbolNameOffset, in: result.stringTable, what: "group signature")
    result.groups.append(
      Group(
        index: index, signature: signature, isComdat: flags & groupComdat != 0, members: members))
  }

  func symbolPlaceIndex(_ symbol: Symbol) -> Int {
    if case .section(let s) = symbol.place { return s }
    return 0
  }
}
