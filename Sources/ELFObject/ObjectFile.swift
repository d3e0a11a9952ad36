/// One section header, validated.
public struct Section: Sendable {
  /// The section's name from the section header string table.
  public var name: String
  /// `sh_type`.
  public var type: UInt32
  /// `sh_flags`.
  public var flags: UInt64
  /// Absolute offset of the section's bytes in the ``FileBytes`` (member base included).
  /// Meaningless for `SHT_NOBITS`.
  public var fileOffset: Int
  /// `sh_size`.
  public var size: UInt64
  /// `sh_link`, validated for the types that use it.
  public var link: UInt32
  /// `sh_info`, validated for the types that use it.
  public var info: UInt32
  /// `sh_addralign`, at least 1 and a power of two.
  public var alignment: UInt64
  /// `sh_entsize`.
  public var entrySize: UInt64

  /// Whether the section occupies memory at run time (`SHF_ALLOC`).
  public var isAllocated: Bool { flags & SectionFlags.alloc != 0 }
  public var isExecutable: Bool { flags & SectionFlags.execInstr != 0 }
  public var isWritable: Bool { flags & SectionFlags.write != 0 }
  public var isNoBits: Bool { type == SectionType.nobits }
}

/// Where a symbol is defined.
public enum SymbolPlace: Sendable, Equatable {
  /// `SHN_UNDEF`: the symbol must come from elsewhere.
  case undefined
  /// `SHN_ABS`: the value is an absolute address.
  case absolute
  /// `SHN_COMMON`: a tentative definition; the value is the alignment.
  case common
  /// Defined in the section with this index.
  case section(Int)
}

/// One symbol table entry, validated.
public struct Symbol: Sendable {
  /// Offset of the name in the symbol string table; see ``ObjectFile/symbolName(_:)``.
  public var nameOffset: UInt32
  /// `st_value`.
  public var value: UInt64
  /// `st_size`.
  public var size: UInt64
  /// `STB_*`.
  public var binding: UInt8
  /// `STT_*`.
  public var type: UInt8
  /// `st_other` (visibility).
  public var other: UInt8
  /// `st_shndx`, resolved through `SHT_SYMTAB_SHNDX`.
  public var place: SymbolPlace

  public var isLocal: Bool { binding == SymbolBinding.local }
  public var isWeak: Bool { binding == SymbolBinding.weak }
  public var isUndefined: Bool { place == .undefined }
}

/// One `Elf64_Rela` entry, validated: its symbol exists and its offset is inside its section.
public struct Relocation: Sendable {
  /// `r_offset`: where the field is, from the start of the target section.
  public var offset: UInt64
  /// `ELF64_R_TYPE(r_info)`.
  public var type: UInt32
  /// `ELF64_R_SYM(r_info)`.
  public var symbolIndex: UInt32
  /// `r_addend`.
  public var addend: Int64

  public init(offset: UInt64, type: UInt32, symbolIndex: UInt32, addend: Int64) {
    self.offset = offset
    self.type = type
    self.symbolIndex = symbolIndex
    self.addend = addend
  }
}

/// A `SHT_RELA` section that applies to an allocated section.
public struct RelocationSection: Sendable {
  /// The index of the `SHT_RELA` section itself.
  public var index: Int
  /// The index of the section it patches (`sh_info`).
  public var target: Int
  public var entries: [Relocation]
}

/// A `SHT_GROUP` section.
public struct Group: Sendable {
  /// The index of the group section.
  public var index: Int
  /// The group's signature (the name of its `sh_info` symbol).
  public var signature: String
  /// Whether `GRP_COMDAT` is set.
  public var isComdat: Bool
  /// The member section indices.
  public var members: [Int]
}

/// A relocatable x86-64 ELF object (`ET_REL`, `ELFCLASS64`, `ELFDATA2LSB`, `EM_X86_64`), parsed
/// and validated.
///
/// Everything a linker needs from the file has been checked when `init` returns: the header,
/// the section table and every section's bytes lie inside the file, links and infos point at
/// sections of the right type, string tables are terminated, symbols name real sections, and
/// relocations name real symbols at offsets inside their sections. A malformed file throws an
/// ``ELFError`` naming the file and the problem.
public final class ObjectFile: Sendable {
  /// The name used in messages: the path, or `archive(member)`.
  public let name: String
  /// The bytes the object lives in (an archive's, for a member).
  public let bytes: FileBytes
  /// The sections, by index (index 0 is the null section).
  public let sections: [Section]
  /// The symbols, by index (index 0 is the null symbol); empty if there is no symbol table.
  public let symbols: [Symbol]
  /// The relocation sections that patch allocated sections, in file order.
  public let relocationSections: [RelocationSection]
  /// The group sections, in file order.
  public let groups: [Group]
  /// Absolute offset and size of the symbol string table.
  let stringTable: (offset: Int, size: Int)
  /// Where the object lies in ``bytes``.
  public let byteRange: Range<Int>

  /// Reads and parses an object file.
  public convenience init(path: String) throws(ELFError) {
    let bytes = try FileBytes(contentsOf: path)
    try self.init(bytes: bytes, offset: 0, count: bytes.count, name: path)
  }

  /// Parses the object at `[offset, offset + count)` of `bytes`.
  ///
  /// - Throws: ``ELFError`` naming `name` and the first problem found.
  public init(bytes: FileBytes, offset: Int, count: Int, name: String) throws(ELFError) {
    let parsed = try ObjectParser(bytes: bytes, offset: offset, count: count, name: name).parse()
    self.name = name
    self.bytes = bytes
    self.sections = parsed.sections
    self.symbols = parsed.symbols
    self.relocationSections = parsed.relocations
    self.groups = parsed.groups
    self.stringTable = parsed.stringTable
    self.byteRange = offset..<(offset + count)
  }

  /// The name of symbol `index` (empty for an unnamed symbol).
  public func symbolName(_ index: Int) -> String {
    stringAt(Int(symbols[index].nameOffset))
  }

  /// The name of symbol `index` as bytes of the string table, with its hash: no String made.
  public func symbolNameBytes(_ index: Int) -> SymbolName {
    let offset = Int(symbols[index].nameOffset)
    guard offset < stringTable.size else { return SymbolName(start: nil, count: 0) }
    return SymbolName(
      terminated: bytes.base + stringTable.offset + offset, limit: stringTable.size - offset)
  }

  /// The name a symbol is known by in messages: its own name, or its section's for
  /// `STT_SECTION` symbols.
  public func displayName(ofSymbol index: Int) -> String {
    let symbol = symbols[index]
    if symbol.type == SymbolType.section, case .section(let s) = symbol.place {
      return sections[s].name
    }
    return symbolName(index)
  }

  /// Calls `body` with the bytes of section `index` (empty for `SHT_NOBITS`).
  public func withContents<R>(
    ofSection index: Int, _ body: (UnsafeRawBufferPointer) throws -> R
  ) rethrows -> R {
    let section = sections[index]
    if section.isNoBits || section.size == 0 {
      return try body(UnsafeRawBufferPointer(start: nil, count: 0))
    }
    return try body(
      UnsafeRawBufferPointer(start: bytes.base + section.fileOffset, count: Int(section.size)))
  }

  /// The NUL-terminated string at `offset` in the symbol string table. `offset` was validated.
  func stringAt(_ offset: Int) -> String {
    guard offset < stringTable.size else { return "" }
    let start = bytes.base + stringTable.offset + offset
    return String(cString: start.assumingMemoryBound(to: CChar.self))
  }

  /// Whether the name of symbol `index` equals `name`, without making a String.
  public func symbolName(_ index: Int, equals name: StaticString) -> Bool {
    let offset = Int(symbols[index].nameOffset)
    guard offset < stringTable.size else { return false }
    let start = (bytes.base + stringTable.offset + offset).assumingMemoryBound(to: UInt8.self)
    let count = name.utf8CodeUnitCount
    guard stringTable.size - offset > count else { return false }
    let other = name.utf8Start
    for i in 0..<count where start[i] != other[i] { return false }
    return start[count] == 0
  }

  /// The function (or, failing that, any named symbol) containing `offset` of section `section`,
  /// as `name+0xoff`, for messages.
  public func location(section: Int, offset: UInt64) -> String? {
    var best: (index: Int, value: UInt64)?
    for (i, symbol) in symbols.enumerated() where symbol.place == .section(section) {
      guard symbol.type == SymbolType.function || symbol.type == SymbolType.object
        || symbol.type == SymbolType.gnuIFunc
      else { continue }
      if symbol.value <= offset && (offset < symbol.value &+ max(symbol.size, 1)) {
        if best == nil || symbol.value > best!.value { best = (i, symbol.value) }
      }
    }
    guard let best else { return nil }
    let delta = offset - best.value
    return delta == 0 ? symbolName(best.index) : "\(symbolName(best.index))+\(hex(delta))"
  }
}
