/// Where the fields of an ELF64 relocatable object (or of an ar archive's members) are, read
/// tolerantly from bytes that may already be mutated: what the ELF-aware mutators aim at.
/// Nothing here trusts the input; anything out of range is left out.
struct Field {
  var offset: Int
  var width: Int
}

struct ELFLayout {
  /// Where the object starts in the file (an archive member's data).
  var base = 0
  var headerFields: [Field] = []
  /// Section headers: offset of each, in the file.
  var sectionHeaders: [Int] = []
  /// (file offset, size, entry size) of sections by type.
  var symbolTables: [(offset: Int, count: Int)] = []
  var relocationTables: [(offset: Int, count: Int)] = []
  var stringTables: [(offset: Int, size: Int)] = []
  var groups: [(offset: Int, count: Int)] = []
  var sectionCount = 0
  var symbolCount = 0

  static let sectionHeaderFields = [
    Field(offset: 0, width: 4), Field(offset: 4, width: 4), Field(offset: 8, width: 8),
    Field(offset: 16, width: 8), Field(offset: 24, width: 8), Field(offset: 32, width: 8),
    Field(offset: 40, width: 4), Field(offset: 44, width: 4), Field(offset: 48, width: 8),
    Field(offset: 56, width: 8),
  ]
  static let elfHeaderFields = [
    Field(offset: 4, width: 1), Field(offset: 5, width: 1), Field(offset: 6, width: 1),
    Field(offset: 7, width: 1), Field(offset: 16, width: 2), Field(offset: 18, width: 2),
    Field(offset: 20, width: 4), Field(offset: 24, width: 8), Field(offset: 32, width: 8),
    Field(offset: 40, width: 8), Field(offset: 48, width: 4), Field(offset: 52, width: 2),
    Field(offset: 54, width: 2), Field(offset: 56, width: 2), Field(offset: 58, width: 2),
    Field(offset: 60, width: 2), Field(offset: 62, width: 2),
  ]

  /// The layout of the ELF object at `base`, or nil if not even its header is there.
  init?(_ bytes: [UInt8], base: Int = 0, end: Int? = nil) {
    let end = min(end ?? bytes.count, bytes.count)
    guard base >= 0, end - base >= 64, bytes[base] == 0x7f, bytes[base + 1] == 0x45 else {
      return nil
    }
    self.base = base
    headerFields = ELFLayout.elfHeaderFields.map {
      Field(offset: base + $0.offset, width: $0.width)
    }
    func load(_ at: Int, _ width: Int) -> UInt64? {
      guard at >= base, at + width <= end else { return nil }
      var v: UInt64 = 0
      for i in 0..<width { v |= UInt64(bytes[at + i]) << (8 * i) }
      return v
    }
    guard let shoff = load(base + 40, 8), let shnum = load(base + 60, 2),
      shoff < UInt64(end - base), shnum < 65536
    else { return }
    for i in 0..<Int(shnum) {
      let at = base + Int(shoff) + i * 64
      guard at + 64 <= end else { break }
      sectionHeaders.append(at)
      guard let type = load(at + 4, 4), let off = load(at + 24, 8), let size = load(at + 32, 8),
        off < UInt64(end - base), size <= UInt64(end - base) - off
      else { continue }
      let start = base + Int(off)
      switch type {
      case 2, 11:  // SHT_SYMTAB, SHT_DYNSYM
        symbolTables.append((start, Int(size) / 24))
        symbolCount = max(symbolCount, Int(size) / 24)
      case 4:  // SHT_RELA
        relocationTables.append((start, Int(size) / 24))
      case 3:  // SHT_STRTAB
        stringTables.append((start, Int(size)))
      case 17:  // SHT_GROUP
        groups.append((start, Int(size) / 4))
      default:
        break
      }
    }
    sectionCount = sectionHeaders.count
  }
}

/// The members of an ar archive: header offsets and data ranges.
struct ArchiveLayout {
  var headers: [Int] = []
  var members: [(start: Int, end: Int)] = []

  init?(_ bytes: [UInt8]) {
    guard bytes.count >= 8, Array(bytes[0..<8]) == Array("!<arch>\n".utf8) else { return nil }
    var at = 8
    while at + 60 <= bytes.count && headers.count < 4096 {
      headers.append(at)
      let sizeText = String(decoding: bytes[(at + 48)..<(at + 58)], as: UTF8.self)
        .trimmingCharacters(in: " ")
      guard let size = Int(sizeText), size >= 0, at + 60 + size <= bytes.count else { break }
      members.append((at + 60, at + 60 + size))
      at += 60 + size + (size & 1)
    }
  }
}

extension String {
  func trimmingCharacters(in set: Character) -> String {
    var s = Substring(self)
    while s.first == set { s = s.dropFirst() }
    while s.last == set { s = s.dropLast() }
    return String(s)
  }
}
