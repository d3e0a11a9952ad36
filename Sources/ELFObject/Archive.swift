// With ObjectParser.swift, the only file that calls libelf.
internal import CLibELF

/// An ar archive of relocatable objects, read with libelf.
///
/// Members are parsed lazily: ``object(at:)`` validates one member the first time a linker
/// pulls it in. The symbol index maps each global symbol to the first member defining it; an
/// archive without an index (ranlib never run) gets one built from its members.
public final class Archive: Sendable {
  /// One member's place in the archive.
  public struct Member: Sendable {
    /// The member's name from its ar header (long names resolved).
    public var name: String
    /// Absolute offset of the member's bytes in the archive.
    public var offset: Int
    /// The member's size in bytes.
    public var size: Int
  }

  /// The archive's path.
  public let name: String
  /// The archive's bytes.
  public let bytes: FileBytes
  /// Every member, in archive order (the ar symbol and long-name tables excluded).
  public let members: [Member]
  /// Global symbol name → indices of the members that define it, in archive order.
  public let symbolIndex: [String: [Int]]

  /// Whether `bytes` start with the ar magic.
  public static func isArchive(_ bytes: FileBytes) -> Bool {
    bytes.count >= 8 && bytes.load(UInt64.self, at: 0) == 0x0a3e_6863_7261_3c21
  }

  /// Reads and indexes an archive.
  public convenience init(path: String) throws(ELFError) {
    try self.init(bytes: FileBytes(contentsOf: path))
  }

  /// Indexes the archive in `bytes`.
  ///
  /// - Throws: ``ELFError/Code/badArchive`` when a header or the index is malformed.
  public init(bytes: FileBytes) throws(ELFError) {
    precondition(libelfReady, "libelf refused EV_CURRENT")
    let name = bytes.name
    self.name = name
    self.bytes = bytes
    func fail(_ message: String) -> ELFError { ELFError(.badArchive, file: name, message) }
    func libelfText() -> String {
      (elf_errmsg(-1).map { String(cString: $0) } ?? "unknown error").lowercased()
    }
    guard Archive.isArchive(bytes) else { throw fail("not an ar archive (bad magic)") }
    let image = UnsafeMutableRawPointer(mutating: bytes.base).assumingMemoryBound(to: CChar.self)
    guard let ar = elf_memory(image, bytes.count), elf_kind(ar) == ELF_K_AR else {
      throw fail("libelf cannot open it: \(libelfText())")
    }
    defer { elf_end(ar) }

    var members: [Member] = []
    var memberByHeader: [Int: Int] = [:]
    var command = ELF_C_READ_MMAP  // elf_memory archives need the MMAP command
    var guardCount = 0
    while let member = elf_begin(-1, command, ar) {
      defer { command = elf_next(member); elf_end(member) }
      guardCount += 1
      guard guardCount <= bytes.count / 60 + 1 else { throw fail("member headers loop") }
      guard let header = elf_getarhdr(member) else {
        throw fail("cannot read member header: \(libelfText())")
      }
      let memberName = header.pointee.ar_name.map { String(cString: $0) } ?? "?"
      if memberName == "/" || memberName == "//" || memberName == "/SYM64/" { continue }
      let base = Int(elf_getbase(member))
      let size = Int(header.pointee.ar_size)
      guard base >= 0, size >= 0, base <= bytes.count, size <= bytes.count - base else {
        throw fail("member '\(memberName)' of \(size) bytes at \(hex(base)) lies outside the archive")
      }
      memberByHeader[Int(elf_getaroff(member))] = members.count
      members.append(Member(name: memberName, offset: base, size: size))
    }
    if elf_errno() != 0 && members.isEmpty && bytes.count > 8 {
      throw fail("cannot read members: \(libelfText())")
    }
    self.members = members

    var index: [String: [Int]] = [:]
    var count = 0
    if let symbols = elf_getarsym(ar, &count), count > 1 {
      // The last entry is a terminator with a null name.
      for i in 0..<(count - 1) {
        let entry = symbols[i]
        guard let cName = entry.as_name else { continue }
        guard let member = memberByHeader[Int(entry.as_off)] else {
          throw fail("symbol index entry '\(String(cString: cName))' points at \(hex(entry.as_off)), not a member")
        }
        index[String(cString: cName), default: []].append(member)
      }
    } else {
      // No index: build one from the members' global definitions.
      for (m, _) in members.enumerated() {
        guard let object = try? Archive.parse(members[m], in: bytes, archive: name) else { continue }
        for (i, symbol) in object.symbols.enumerated()
        where !symbol.isLocal && !symbol.isUndefined && i != 0 {
          index[object.symbolName(i), default: []].append(m)
        }
      }
    }
    self.symbolIndex = index
  }

  static func parse(_ member: Member, in bytes: FileBytes, archive: String) throws(ELFError) -> ObjectFile {
    try ObjectFile(
      bytes: bytes, offset: member.offset, count: member.size, name: "\(archive)(\(member.name))")
  }

  /// Parses and validates member `index`.
  public func object(at index: Int) throws(ELFError) -> ObjectFile {
    try Archive.parse(members[index], in: bytes, archive: name)
  }
}
