import LKMBase
import Synchronization

// The ar format is simple enough to read directly, and libelf's reader reports most defects
// as a bare "invalid archive" or not at all (a truncated last header ends its iteration
// quietly). Every offset read here is checked against the archive's size first.

/// An ar archive of relocatable objects.
///
/// Members are parsed lazily: ``object(at:)`` validates one member the first time a linker
/// pulls it in, and keeps it for the archive's later links (see ``ArchiveCache``). The symbol index maps each global symbol to the first member defining it; an
/// archive without an index (ranlib never run) gets one built from its members, which are then
/// all parsed, so a malformed member is reported at once.
///
/// Reads the GNU/System V format (`/` and `/SYM64/` symbol indexes, `//` long names) and BSD
/// `#1/N` long names.
public final class Archive: Sendable {
  /// One member's place in the archive.
  ///
  /// Its name is where the archive holds it (its ar header, the `//` long-name table or a BSD
  /// name's data), made a String only when asked for (``Archive/memberName(_:)``).
  public struct Member: Sendable {
    /// Absolute offset of the member's bytes in the archive.
    public var offset: Int
    /// The member's size in bytes.
    public var size: Int
    /// Absolute offset of the member's ar header.
    var header: Int
    /// Where its name lies in the archive (long names resolved, the trailing `/` dropped).
    var nameOffset: Int
    var nameCount: Int
  }

  /// The archive's path.
  public let name: String

  /// Member `index`'s name from its ar header (long names resolved).
  public func memberName(_ index: Int) -> String {
    Archive.name(of: members[index], in: bytes)
  }

  /// A member's name: a name from its header shown as its messages show header fields
  /// (printable ASCII, other bytes as `\xNN`), a long or BSD name as it is.
  static func name(of member: Member, in bytes: FileBytes) -> String {
    let start = unsafe bytes.base + member.nameOffset
    let text = unsafe UnsafeRawBufferPointer(start: start, count: member.nameCount)
    guard member.nameOffset == member.header, unsafe !text.allSatisfy({ $0 >= 0x20 && $0 < 0x7f })
    else { return unsafe String(decoding: text, as: UTF8.self) }
    var s = ""
    for c in unsafe Array(text) {
      s += c >= 0x20 && c < 0x7f ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }
    return s
  }

  /// The archive's bytes.
  public let bytes: FileBytes
  /// Every member, in archive order (the ar symbol and long-name tables excluded).
  public let members: [Member]
  /// Global symbol name → indices of the members that define it, in archive order (made on
  /// demand; a link uses ``firstMember(defining:where:)``, which makes no String).
  public var symbolIndex: [String: [Int]] {
    var index: [String: [Int]] = [:]
    index.reserveCapacity(names.count)
    for (n, name) in names.names.enumerated() {
      var e = Int(head[n])
      var list: [Int] = []
      while e >= 0 {
        list.append(Int(entryMember[e]))
        e = Int(entryNext[e])
      }
      index[name.string] = list
    }
    return index
  }
  /// How many distinct names the symbol index has.
  public var indexedNameCount: Int { names.count }
  /// The index's distinct names (bytes of the archive), and for each the first of its entries.
  let names: SymbolNameTable
  let head: [Int32]
  /// Index entries: the member, and the next entry of the same name (-1 at the end).
  let entryMember: [Int32]
  let entryNext: [Int32]
  /// The members parsed so far, by index.
  private let parsed: Mutex<[ObjectFile?]>

  /// The first member defining `name`, in archive order, for which `isAvailable` holds.
  public func firstMember(defining name: SymbolName, where isAvailable: (Int) -> Bool) -> Int? {
    guard let n = names.index(of: name) else { return nil }
    var e = Int(head[n])
    while e >= 0 {
      let m = Int(entryMember[e])
      if isAvailable(m) { return m }
      e = Int(entryNext[e])
    }
    return nil
  }

  /// `!<arch>\n`, little-endian.
  static let magic: UInt64 = 0x0a3e_6863_7261_3c21
  static let headerSize = 60

  /// Whether `bytes` start with the ar magic.
  public static func isArchive(_ bytes: FileBytes) -> Bool {
    bytes.count >= 8 && bytes.load(UInt64.self, at: 0) == magic
  }

  /// Reads and indexes an archive.
  public convenience init(path: String) throws(ELFError) {
    try self.init(bytes: FileBytes(contentsOf: path))
  }

  /// Indexes the archive in `bytes`.
  ///
  /// - Throws: ``ELFError/Code/badArchive`` when a header or the index is malformed; the
  ///   member's own ``ELFError`` when the archive has no index and a member is not a valid
  ///   object.
  public init(bytes: FileBytes) throws(ELFError) {
    let name = bytes.name
    self.name = name
    self.bytes = bytes
    var reader = ArchiveReader(bytes: bytes)
    try reader.readMembers()
    self.members = reader.members

    var builder = IndexBuilder()
    var parsed = [ObjectFile?](repeating: nil, count: reader.members.count)
    if let table = reader.indexTable {
      try reader.readIndex(table, into: &builder)
    } else {
      // No index: build one from the members' global definitions.
      for m in reader.members.indices {
        let object = try Archive.parse(reader.members[m], in: bytes, archive: name)
        parsed[m] = object
        for (i, symbol) in object.symbols.enumerated()
        where !symbol.isLocal && !symbol.isUndefined && i != 0 {
          builder.add(object.symbolNameBytes(i), member: m)
        }
      }
    }
    self.names = builder.names
    self.head = builder.head
    self.entryMember = builder.member
    self.entryNext = builder.next
    self.parsed = Mutex(parsed)
  }

  static func parse(_ member: Member, in bytes: FileBytes, archive: String) throws(ELFError)
    -> ObjectFile
  {
    let memberName = name(of: member, in: bytes)
    return try ObjectFile(
      bytes: bytes, offset: member.offset, count: member.size, name: "\(archive)(\(memberName))")
  }

  /// Parses and validates member `index` (once: later calls return the same object).
  public func object(at index: Int) throws(ELFError) -> ObjectFile {
    if let known = parsed.withLock({ $0[index] }) { return known }
    let object = try Archive.parse(members[index], in: bytes, archive: name)
    parsed.withLock { $0[index] = object }
    return object
  }
}

/// The symbol index as it is read: names in a table, entries chained per name in order.
struct IndexBuilder {
  var names = SymbolNameTable(capacity: 256)
  var head: [Int32] = []
  var tail: [Int32] = []
  var member: [Int32] = []
  var next: [Int32] = []

  mutating func add(_ name: SymbolName, member m: Int) {
    let (n, inserted) = names.insert(name)
    let e = Int32(member.count)
    member.append(Int32(m))
    next.append(-1)
    if inserted {
      head.append(e)
      tail.append(e)
    } else {
      next[Int(tail[n])] = e
      tail[n] = e
    }
  }
}

/// One pass over an archive's member headers.
private struct ArchiveReader {
  let bytes: FileBytes
  /// In header order: the symbol index finds a member by its header's offset by bisection.
  var members: [Archive.Member] = []
  /// The symbol index member's data, and whether its words are 64-bit.
  var indexTable: (offset: Int, size: Int, wide: Bool)?
  /// The long-name table's data.
  var longNames: (offset: Int, size: Int)?

  init(bytes: FileBytes) {
    self.bytes = bytes
  }

  var count: Int { bytes.count }

  func fail(_ message: String) -> ELFError {
    ELFError(.badArchive, file: bytes.name, message)
  }

  func byte(_ at: Int) -> UInt8 { unsafe bytes.base.load(fromByteOffset: at, as: UInt8.self) }

  /// The bytes `[at, at + length)` as text, for names and messages (the range is in the file).
  func text(_ at: Int, _ length: Int) -> String {
    unsafe String(
      decoding: UnsafeRawBufferPointer(start: bytes.base + at, count: length), as: UTF8.self)
  }

  /// A header field as shown in messages: printable ASCII, trailing spaces dropped.
  func field(_ at: Int, _ length: Int) -> String {
    var end = length
    while end > 0 && byte(at + end - 1) == 0x20 { end -= 1 }
    var printable = true
    for i in 0..<end where byte(at + i) < 0x20 || byte(at + i) >= 0x7f {
      printable = false
      break
    }
    if printable { return text(at, end) }
    var s = ""
    for i in 0..<length {
      let c = byte(at + i)
      s += c >= 0x20 && c < 0x7f ? String(UnicodeScalar(c)) : "\\x" + String(c, radix: 16)
    }
    while s.hasSuffix(" ") { s.removeLast() }
    return s
  }

  /// A decimal header field: digits, then spaces only.
  func decimal(_ at: Int, _ length: Int) -> Int? {
    var value = 0
    var i = 0
    while i < length {
      let c = byte(at + i)
      guard c >= 0x30 && c <= 0x39 else { break }
      value = value * 10 + Int(c - 0x30)  // at most 15 digits: no overflow
      i += 1
    }
    guard i > 0 else { return nil }
    while i < length {
      guard byte(at + i) == 0x20 else { return nil }
      i += 1
    }
    return value
  }

  mutating func readMembers() throws(ELFError) {
    guard Archive.isArchive(bytes) else { throw fail("not an ar archive (bad magic)") }
    var at = 8
    while at < count {
      let header = at
      guard count - at >= Archive.headerSize else {
        throw fail(
          "member header at \(hex(header)) is truncated (\(count - at) of \(Archive.headerSize) "
            + "bytes)")
      }
      guard byte(at + 58) == 0x60 && byte(at + 59) == 0x0a else {
        throw fail(
          "member header at \(hex(header)) does not end in the ar terminator (found "
            + "'\(field(at + 58, 2))')")
      }
      guard let size = decimal(at + 48, 10) else {
        throw fail("member header at \(hex(header)) has an invalid size '\(field(at + 48, 10))'")
      }
      var data = at + Archive.headerSize
      // The name field's bytes, trailing spaces dropped (a String only for a message).
      var nameEnd = 16
      while nameEnd > 0 && byte(header + nameEnd - 1) == 0x20 { nameEnd -= 1 }
      var rawName: String { field(header, 16) }
      guard size <= count - data else {
        let shown =
          rawName.count > 1 && rawName.hasSuffix("/") ? String(rawName.dropLast()) : rawName
        throw fail(
          "member '\(shown)' of \(hex(size)) bytes at \(hex(data)) lies outside the archive "
            + "(\(hex(count)) bytes)")
      }
      var length = size
      at = data + size
      at += at & 1  // members start on even offsets; the last pad byte may be missing

      if nameIs(header, nameEnd, "/") || nameIs(header, nameEnd, "/SYM64/") {
        if indexTable == nil { indexTable = (data, size, nameEnd == 7) }
        continue
      }
      if nameIs(header, nameEnd, "//") {
        longNames = (data, size)
        continue
      }
      if nameIs(header, nameEnd, "__.SYMDEF") || nameIs(header, nameEnd, "__.SYMDEF SORTED") {
        continue  // a BSD index: rebuilt from the members instead
      }
      let nameOffset: Int
      var nameCount: Int
      if nameEnd >= 3 && byte(header) == 0x23 && byte(header + 1) == 0x31
        && byte(header + 2) == 0x2f
      {
        // BSD (`#1/N`): the name is the first N bytes of the data.
        guard let n = decimal(header + 3, 13), n <= size else {
          throw fail("member header at \(hex(header)) has an invalid BSD name '\(rawName)'")
        }
        var end = data
        while end < data + n && byte(end) != 0 { end += 1 }
        nameOffset = data
        nameCount = end - data
        data += n
        length -= n
      } else if nameEnd >= 1 && byte(header) == 0x2f {
        guard let offset = decimal(header + 1, 15) else {
          throw fail("member header at \(hex(header)) has an invalid name '\(rawName)'")
        }
        (nameOffset, nameCount) = try longName(offset, header: header)
      } else {
        nameOffset = header
        nameCount = nameEnd
        if nameCount > 0 && byte(header + nameCount - 1) == 0x2f { nameCount -= 1 }
      }
      members.append(
        Archive.Member(
          offset: data, size: length, header: header, nameOffset: nameOffset,
          nameCount: nameCount))
    }
  }

  /// Whether the name field at `header`, `count` bytes once its trailing spaces are dropped, is
  /// `name`.
  func nameIs(_ header: Int, _ count: Int, _ name: StaticString) -> Bool {
    guard count == name.utf8CodeUnitCount else { return false }
    for i in 0..<count where unsafe byte(header + i) != name.utf8Start[i] { return false }
    return true
  }

  /// The member whose header is at `header`, by bisection (members are in header order).
  func member(atHeader header: Int) -> Int? {
    var low = 0
    var high = members.count
    while low < high {
      let mid = (low + high) / 2
      if members[mid].header < header { low = mid + 1 } else { high = mid }
    }
    return low < members.count && members[low].header == header ? low : nil
  }

  /// A GNU long name: from `offset` in the `//` member up to `/\n` (its place in the archive,
  /// the trailing `/` left out).
  func longName(_ offset: Int, header: Int) throws(ELFError) -> (offset: Int, count: Int) {
    let table = longNames ?? (0, 0)
    guard offset < table.size else {
      throw fail(
        "member header at \(hex(header)) names long name \(hex(offset)), outside the long-name "
          + "table (\(hex(table.size)) bytes)")
    }
    let start = table.offset + offset
    var end = start
    let limit = table.offset + table.size
    while end < limit && byte(end) != 0x0a && byte(end) != 0 { end += 1 }
    if end > start && byte(end - 1) == 0x2f { end -= 1 }
    return (start, end - start)
  }

  /// The `/` (32-bit) or `/SYM64/` (64-bit) index: a big-endian count, that many member
  /// header offsets, then that many NUL-terminated names.
  func readIndex(_ table: (offset: Int, size: Int, wide: Bool), into builder: inout IndexBuilder)
    throws(ELFError)
  {
    let word = table.wide ? 8 : 4
    let base = unsafe bytes.base
    func load(_ at: Int) -> UInt64 {
      unsafe table.wide
        ? UInt64(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        : UInt64(UInt32(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
    }
    guard table.size >= word else {
      throw fail("symbol index of \(hex(table.size)) bytes has no entry count")
    }
    let entries = load(table.offset)
    guard entries <= UInt64((table.size - word) / word) else {
      throw fail("symbol index of \(entries) entries does not fit its \(hex(table.size)) bytes")
    }
    let n = Int(entries)
    var names = table.offset + word * (n + 1)
    let end = table.offset + table.size
    builder.names = SymbolNameTable(capacity: n)
    builder.member.reserveCapacity(n)
    builder.next.reserveCapacity(n)
    builder.head.reserveCapacity(n)
    builder.tail.reserveCapacity(n)
    // A member's symbols are consecutive entries: the last one found is tried first.
    var last: (header: UInt64, member: Int) = (UInt64.max, 0)
    for i in 0..<n {
      guard names < end, let nul = unsafe system_memchr(bytes.base + names, 0, end - names) else {
        throw fail("symbol index entry \(i) has no NUL-terminated name")
      }
      let length = unsafe nul - (bytes.base + names)
      let symbol = unsafe SymbolName(start: bytes.base + names, count: length)
      names += length + 1
      let offset = load(table.offset + word * (i + 1))
      if offset != last.header {
        guard offset <= UInt64(Int.max), let member = member(atHeader: Int(offset)) else {
          throw fail(
            "symbol index entry '\(symbol.string)' points at \(hex(offset)), not a member")
        }
        last = (offset, member)
      }
      builder.add(symbol, member: last.member)
    }
  }
}
