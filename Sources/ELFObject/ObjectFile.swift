// Safety: an ObjectFile's tables are byte ranges of its FileBytes, which it keeps alive; every
// range and every index a table holds was validated by ObjectParser before init returned, so
// the accessors read inside the file without checking again.
import LKMBase

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

  public init(
    nameOffset: UInt32, value: UInt64, size: UInt64, binding: UInt8, type: UInt8, other: UInt8,
    place: SymbolPlace
  ) {
    self.nameOffset = nameOffset
    self.value = value
    self.size = size
    self.binding = binding
    self.type = type
    self.other = other
    self.place = place
  }

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

/// The entries of one `SHT_RELA` section, read in place from the file (24 bytes each).
public struct RelocationList: RandomAccessCollection, Sendable {
  @usableFromInline let bytes: FileBytes
  /// Absolute offset of the first entry.
  @usableFromInline let offset: Int
  public let count: Int

  init(bytes: FileBytes, offset: Int, count: Int) {
    self.bytes = bytes
    self.offset = offset
    self.count = count
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  @inlinable
  public subscript(position: Int) -> Relocation {
    precondition(position >= 0 && position < count, "relocation index out of range")
    let at = offset + position * 24
    let info = unsafe bytes.base.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)
    return unsafe Relocation(
      offset: bytes.base.loadUnaligned(fromByteOffset: at, as: UInt64.self),
      type: UInt32(truncatingIfNeeded: info),
      symbolIndex: UInt32(truncatingIfNeeded: info >> 32),
      addend: bytes.base.loadUnaligned(fromByteOffset: at + 16, as: Int64.self))
  }
}

extension RelocationList {
  /// Calls `body` with the entries' bytes (`Elf64_Rela`, 24 bytes each, validated) and their
  /// count: for a linker's loop over every relocation.
  @inlinable
  public func withEntryBytes<R>(_ body: (UnsafeRawPointer, Int) throws -> R) rethrows -> R {
    unsafe try body(bytes.base + offset, count)
  }
}

/// A `SHT_RELA` section that applies to an allocated section.
public struct RelocationSection: Sendable {
  /// The index of the `SHT_RELA` section itself.
  public var index: Int
  /// The index of the section it patches (`sh_info`).
  public var target: Int
  /// The entries, validated (read from the file on access).
  public var entries: RelocationList
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

/// The sections of an object, decoded from its section header table on access.
public struct SectionList: RandomAccessCollection, Sendable {
  let object: ObjectFile
  public var startIndex: Int { 0 }
  public var endIndex: Int { object.sectionCount }
  public subscript(position: Int) -> Section { object.section(position) }
}

/// The symbols of an object, decoded from its symbol table on access.
public struct SymbolList: RandomAccessCollection, Sendable {
  @usableFromInline let object: ObjectFile
  public var startIndex: Int { 0 }
  public var endIndex: Int { object.symbolCount }
  @inlinable
  public subscript(position: Int) -> Symbol { object.symbol(position) }
}

/// A relocatable x86-64 ELF object (`ET_REL`, `ELFCLASS64`, `ELFDATA2LSB`, `EM_X86_64`), parsed
/// and validated.
///
/// Everything a linker needs from the file has been checked when `init` returns: the header,
/// the section table and every section's bytes lie inside the file, links and infos point at
/// sections of the right type, string tables are terminated, symbols name real sections, and
/// relocations name real symbols at offsets inside their sections. A malformed file throws an
/// ``ELFError`` naming the file and the problem.
///
/// Nothing is copied: sections, symbols and relocations are read in place from the file's bytes
/// (``sections``, ``symbols`` and ``RelocationSection/entries`` decode on access), and the
/// `section*`/`symbol*` accessors read single fields for a linker's loops.
public final class ObjectFile: @unchecked Sendable {
  /// The name used in messages: the path, or `archive(member)`.
  public let name: String
  /// The bytes the object lives in (an archive's, for a member).
  public let bytes: FileBytes
  /// The relocation sections that patch allocated sections, in file order.
  public let relocationSections: [RelocationSection]
  /// The group sections, in file order.
  public let groups: [Group]
  /// Absolute offset and size of the symbol string table.
  @usableFromInline let stringTable: (offset: Int, size: Int)
  /// Where the object lies in ``bytes``.
  public let byteRange: Range<Int>
  /// The number of sections (index 0 is the null section).
  public let sectionCount: Int
  /// The number of symbols (index 0 is the null symbol); 0 without a symbol table.
  public let symbolCount: Int
  /// Absolute offset of section header 0.
  @usableFromInline let sectionHeaders: Int
  /// Absolute offset and size of the section name table.
  let sectionNames: (offset: Int, size: Int)
  /// Absolute offset of the symbol table's entries.
  @usableFromInline let symbolEntries: Int
  /// Absolute offset of the `SHT_SYMTAB_SHNDX` words, if there are any.
  @usableFromInline let extendedIndexes: Int?

  /// The sections, by index (index 0 is the null section).
  public var sections: SectionList { SectionList(object: self) }
  /// The symbols, by index (index 0 is the null symbol); empty if there is no symbol table.
  public var symbols: SymbolList { SymbolList(object: self) }

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
    self.relocationSections = parsed.relocations
    self.groups = parsed.groups
    self.stringTable = parsed.stringTable
    self.byteRange = offset..<(offset + count)
    self.sectionCount = parsed.sectionCount
    self.symbolCount = parsed.symbolCount
    self.sectionHeaders = parsed.sectionHeaders
    self.sectionNames = parsed.sectionNames
    self.symbolEntries = parsed.symbolEntries
    self.extendedIndexes = parsed.extendedIndexes
  }

  // MARK: Sections

  /// Section `index`, decoded (its name made as a String).
  public func section(_ index: Int) -> Section {
    precondition(index >= 0 && index < sectionCount, "section index out of range")
    if index == 0 {
      return Section(
        name: "", type: SectionType.null, flags: 0, fileOffset: byteRange.lowerBound, size: 0,
        link: 0, info: 0, alignment: 1, entrySize: 0)
    }
    return Section(
      name: sectionName(index), type: sectionType(index), flags: sectionFlags(index),
      fileOffset: sectionFileOffset(index), size: sectionSize(index),
      link: header(index, 40, UInt32.self), info: header(index, 44, UInt32.self),
      alignment: sectionAlignment(index), entrySize: header(index, 56, UInt64.self))
  }

  @inlinable
  func header<T: FixedWidthInteger>(_ index: Int, _ field: Int, _: T.Type) -> T {
    unsafe bytes.base.loadUnaligned(fromByteOffset: sectionHeaders + index * 64 + field, as: T.self)
  }

  /// `sh_type` of section `index` (`SHT_NULL` for section 0).
  @inlinable
  public func sectionType(_ index: Int) -> UInt32 { index == 0 ? 0 : header(index, 4, UInt32.self) }
  /// `sh_flags` of section `index`.
  @inlinable
  public func sectionFlags(_ index: Int) -> UInt64 {
    index == 0 ? 0 : header(index, 8, UInt64.self)
  }
  /// `sh_size` of section `index` (0 for section 0, whose field may hold the section count).
  @inlinable
  public func sectionSize(_ index: Int) -> UInt64 {
    index == 0 ? 0 : header(index, 32, UInt64.self)
  }
  /// `sh_addralign` of section `index`, at least 1.
  @inlinable
  public func sectionAlignment(_ index: Int) -> UInt64 {
    let align = index == 0 ? 1 : header(index, 48, UInt64.self)
    return align == 0 ? 1 : align
  }
  /// Absolute offset of section `index`'s bytes in ``bytes`` (the object's start for
  /// `SHT_NOBITS`).
  @inlinable
  public func sectionFileOffset(_ index: Int) -> Int {
    guard index != 0, sectionType(index) != SectionType.nobits else { return byteRange.lowerBound }
    return byteRange.lowerBound + Int(truncatingIfNeeded: header(index, 24, UInt64.self))
  }
  /// Whether section `index` is `SHF_ALLOC`.
  @inlinable
  public func isAllocated(section index: Int) -> Bool {
    sectionFlags(index) & SectionFlags.alloc != 0
  }

  /// The name of section `index`.
  public func sectionName(_ index: Int) -> String {
    guard index != 0 else { return "" }
    let offset = Int(header(index, 0, UInt32.self))
    guard offset < sectionNames.size else { return "" }
    return unsafe String(
      cString: (bytes.base + sectionNames.offset + offset).assumingMemoryBound(to: CChar.self))
  }

  /// The name of section `index` as bytes of the section name table, without making a String.
  public func sectionNameBytes(_ index: Int) -> SymbolName {
    guard index != 0 else { return unsafe SymbolName(start: nil, count: 0) }
    let offset = Int(header(index, 0, UInt32.self))
    guard offset < sectionNames.size else { return unsafe SymbolName(start: nil, count: 0) }
    return unsafe SymbolName(
      terminated: bytes.base + sectionNames.offset + offset, limit: sectionNames.size - offset)
  }

  /// Whether the name of section `index` is `text`, without making a String.
  public func sectionName(_ index: Int, equals text: StaticString) -> Bool {
    sectionName(index, matches: text, prefixOnly: false)
  }

  /// Whether the name of section `index` starts with `text`, without making a String.
  public func sectionName(_ index: Int, hasPrefix text: StaticString) -> Bool {
    sectionName(index, matches: text, prefixOnly: true)
  }

  private func sectionName(_ index: Int, matches text: StaticString, prefixOnly: Bool) -> Bool {
    guard index != 0 else { return text.utf8CodeUnitCount == 0 }
    let offset = Int(header(index, 0, UInt32.self))
    let count = text.utf8CodeUnitCount
    guard offset < sectionNames.size, sectionNames.size - offset > count else { return false }
    let start = unsafe (bytes.base + sectionNames.offset + offset).assumingMemoryBound(
      to: UInt8.self)
    let other = unsafe text.utf8Start
    for i in 0..<count where unsafe start[i] != other[i] { return false }
    return unsafe prefixOnly || start[count] == 0
  }

  /// Calls `body` with the bytes of section `index` (empty for `SHT_NOBITS`): for ModuleLinker's
  /// `Image/` (``FileBytes/withUnsafeBytes(_:_:)``). The pointer must not escape `body`.
  package func withContents<R>(
    ofSection index: Int, _ body: (UnsafeRawBufferPointer) throws -> R
  ) rethrows -> R {
    let size = sectionSize(index)
    if sectionType(index) == SectionType.nobits || size == 0 {
      return unsafe try body(UnsafeRawBufferPointer(start: nil, count: 0))
    }
    let start = sectionFileOffset(index)
    return unsafe try bytes.withUnsafeBytes(start..<(start + Int(size)), body)
  }

  /// The byte at `offset` of section `index`, if the section has bytes there.
  @inlinable
  public func byte(ofSection index: Int, at offset: UInt64) -> UInt8? {
    guard sectionType(index) != SectionType.nobits, offset < sectionSize(index) else { return nil }
    return unsafe bytes.base.load(
      fromByteOffset: sectionFileOffset(index) + Int(offset), as: UInt8.self)
  }

  // MARK: Symbols

  @inlinable
  func entry<T: FixedWidthInteger>(_ index: Int, _ field: Int, _: T.Type) -> T {
    unsafe bytes.base.loadUnaligned(fromByteOffset: symbolEntries + index * 24 + field, as: T.self)
  }

  /// Symbol `index`, decoded.
  @inlinable
  public func symbol(_ index: Int) -> Symbol {
    precondition(index >= 0 && index < symbolCount, "symbol index out of range")
    let info = entry(index, 4, UInt8.self)
    return Symbol(
      nameOffset: entry(index, 0, UInt32.self), value: entry(index, 8, UInt64.self),
      size: entry(index, 16, UInt64.self), binding: info >> 4, type: info & 0xf,
      other: entry(index, 5, UInt8.self), place: symbolPlace(index))
  }

  /// Calls `body` with the symbol table's entries (`Elf64_Sym`, 24 bytes each, validated), their
  /// count, and the `SHT_SYMTAB_SHNDX` words when there are any: for a linker's loop over every
  /// symbol. An entry's `st_shndx` of `SHN_XINDEX` is resolved through the words.
  @inlinable
  public func withSymbolEntries<R>(
    _ body: (UnsafeRawPointer, Int, UnsafeRawPointer?) throws -> R
  ) rethrows -> R {
    unsafe try body(
      bytes.base + symbolEntries, symbolCount, extendedIndexes.map { unsafe bytes.base + $0 })
  }

  /// `STB_*` of symbol `index`.
  @inlinable
  public func symbolBinding(_ index: Int) -> UInt8 { entry(index, 4, UInt8.self) >> 4 }
  /// `STT_*` of symbol `index`.
  @inlinable
  public func symbolType(_ index: Int) -> UInt8 { entry(index, 4, UInt8.self) & 0xf }
  /// `st_value` of symbol `index`.
  @inlinable
  public func symbolValue(_ index: Int) -> UInt64 { entry(index, 8, UInt64.self) }
  /// `st_size` of symbol `index`.
  @inlinable
  public func symbolSize(_ index: Int) -> UInt64 { entry(index, 16, UInt64.self) }

  /// Where symbol `index` is defined.
  @inlinable
  public func symbolPlace(_ index: Int) -> SymbolPlace {
    let shndx = UInt32(entry(index, 6, UInt16.self))
    switch shndx {
    case SectionIndex.undefined: return .undefined
    case SectionIndex.absolute: return .absolute
    case SectionIndex.common: return .common
    case SectionIndex.xindex:
      let words = extendedIndexes ?? 0
      return unsafe .section(
        Int(bytes.base.loadUnaligned(fromByteOffset: words + index * 4, as: UInt32.self)))
    default: return .section(Int(shndx))
    }
  }

  /// The section symbol `index` is defined in, or -1 (undefined, absolute, COMMON).
  @inlinable
  public func symbolSection(_ index: Int) -> Int {
    if case .section(let s) = symbolPlace(index) { return s }
    return -1
  }

  /// The name of symbol `index` (empty for an unnamed symbol).
  public func symbolName(_ index: Int) -> String {
    stringAt(Int(entry(index, 0, UInt32.self)))
  }

  /// The name of symbol `index` as bytes of the string table, with its hash: no String made.
  public func symbolNameBytes(_ index: Int) -> SymbolName {
    let offset = Int(entry(index, 0, UInt32.self))
    guard offset < stringTable.size else { return unsafe SymbolName(start: nil, count: 0) }
    return unsafe SymbolName(
      terminated: bytes.base + stringTable.offset + offset, limit: stringTable.size - offset)
  }

  /// The name a symbol is known by in messages: its own name, or its section's for
  /// `STT_SECTION` symbols.
  public func displayName(ofSymbol index: Int) -> String {
    if symbolType(index) == SymbolType.section, case .section(let s) = symbolPlace(index) {
      return sectionName(s)
    }
    return symbolName(index)
  }

  /// The NUL-terminated string at `offset` in the symbol string table. `offset` was validated.
  func stringAt(_ offset: Int) -> String {
    guard offset < stringTable.size else { return "" }
    let start = unsafe bytes.base + stringTable.offset + offset
    return unsafe String(cString: start.assumingMemoryBound(to: CChar.self))
  }

  /// Whether the name of symbol `index` equals `name`, without making a String.
  public func symbolName(_ index: Int, equals name: StaticString) -> Bool {
    let offset = Int(entry(index, 0, UInt32.self))
    guard offset < stringTable.size else { return false }
    let start = unsafe (bytes.base + stringTable.offset + offset).assumingMemoryBound(
      to: UInt8.self)
    let count = name.utf8CodeUnitCount
    guard stringTable.size - offset > count else { return false }
    let other = unsafe name.utf8Start
    for i in 0..<count where unsafe start[i] != other[i] { return false }
    return unsafe start[count] == 0
  }

  /// The function (or, failing that, any named symbol) containing `offset` of section `section`,
  /// as `name+0xoff`, for messages.
  public func location(section: Int, offset: UInt64) -> String? {
    var best: (index: Int, value: UInt64)?
    for i in 0..<symbolCount where symbolSection(i) == section {
      let type = symbolType(i)
      guard type == SymbolType.function || type == SymbolType.object || type == SymbolType.gnuIFunc
      else { continue }
      let value = symbolValue(i)
      if value <= offset && (offset < value &+ max(symbolSize(i), 1)) {
        if best == nil || value > best!.value { best = (i, value) }
      }
    }
    guard let best else { return nil }
    let delta = offset - best.value
    return delta == 0 ? symbolName(best.index) : "\(symbolName(best.index))+\(hex(delta))"
  }
}
