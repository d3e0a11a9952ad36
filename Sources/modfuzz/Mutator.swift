/// The mutators: ELF-aware ones aim at the fields the reader and the linker interpret; generic
/// ones change bytes blindly. Each returns its name (for the findings' notes), or nil when it
/// found nothing to change.
struct Mutator {
  var rng: SplitMix64
  let seeds: [[UInt8]]

  /// Values that sit on the edges of ranges.
  static let interesting: [UInt64] = [
    0, 1, 2, 3, 4, 7, 8, 15, 16, 24, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
    0xffff, 0x10000, 0x7fff_ffff, 0x8000_0000, 0xffff_fff0, 0xffff_ffff, 0x1_0000_0000,
    0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, 0xffff_ffff_ffff_fff0, UInt64.max,
  ]

  mutating func value(old: UInt64, width: Int, count: Int) -> UInt64 {
    switch rng.below(6) {
    case 0, 1: return Mutator.interesting[rng.below(Mutator.interesting.count)]
    case 2: return old &+ UInt64(bitPattern: Int64(rng.below(33) - 16))
    case 3: return old ^ (1 << UInt64(rng.below(width * 8)))
    case 4: return UInt64(count) &+ UInt64(bitPattern: Int64(rng.below(17) - 8))
    default: return rng.next()
    }
  }

  static func load(_ bytes: [UInt8], _ field: Field) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<field.width where field.offset + i < bytes.count {
      v |= UInt64(bytes[field.offset + i]) << (8 * i)
    }
    return v
  }

  static func store(_ bytes: inout [UInt8], _ field: Field, _ value: UInt64) {
    for i in 0..<field.width where field.offset + i < bytes.count {
      bytes[field.offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i))
    }
  }

  mutating func set(_ bytes: inout [UInt8], _ field: Field, count: Int) {
    guard field.offset >= 0, field.offset + field.width <= bytes.count else { return }
    let old = Mutator.load(bytes, field)
    Mutator.store(&bytes, field, value(old: old, width: field.width, count: count))
  }

  /// One mutation of `bytes`.
  mutating func mutate(_ bytes: inout [UInt8]) -> String {
    if rng.chance(70), let name = elfAware(&bytes) { return name }
    return generic(&bytes)
  }

  /// The object to aim at: the file, or one ELF member of an archive.
  mutating func layout(_ bytes: [UInt8]) -> ELFLayout? {
    if let archive = ArchiveLayout(bytes) {
      let elf = archive.members.compactMap { ELFLayout(bytes, base: $0.start, end: $0.end) }
      return elf.isEmpty ? nil : elf[rng.below(elf.count)]
    }
    return ELFLayout(bytes)
  }

  mutating func elfAware(_ bytes: inout [UInt8]) -> String? {
    if let archive = ArchiveLayout(bytes), rng.chance(15) {
      return archiveHeader(&bytes, archive)
    }
    guard let elf = layout(bytes) else { return nil }
    switch rng.below(8) {
    case 0:
      let field = elf.headerFields[rng.below(elf.headerFields.count)]
      set(&bytes, field, count: elf.sectionCount)
      return "elf-header+\(field.offset - elf.base)"
    case 1, 2:
      guard !elf.sectionHeaders.isEmpty else { return nil }
      let section = rng.below(elf.sectionHeaders.count)
      let f = ELFLayout.sectionHeaderFields[rng.below(ELFLayout.sectionHeaderFields.count)]
      set(
        &bytes, Field(offset: elf.sectionHeaders[section] + f.offset, width: f.width),
        count: elf.sectionCount)
      return "section-header[\(section)]+\(f.offset)"
    case 3, 4:
      return symbol(&bytes, elf)
    case 5, 6:
      return relocation(&bytes, elf)
    case 7:
      return rng.chance(50) ? stringTable(&bytes, elf) : group(&bytes, elf)
    default:
      return nil
    }
  }

  mutating func symbol(_ bytes: inout [UInt8], _ elf: ELFLayout) -> String? {
    guard let table = elf.symbolTables.first, table.count > 1 else { return nil }
    let index = 1 + rng.below(table.count - 1)
    let at = table.offset + index * 24
    switch rng.below(6) {
    case 0:
      set(&bytes, Field(offset: at, width: 4), count: elf.stringTables.first?.size ?? 0)
      return "symbol[\(index)].name"
    case 1:
      // st_info: a type (0-10, STT_GNU_IFUNC is 10) and a binding (0-2, 10 STB_GNU_UNIQUE).
      let type = [0, 1, 2, 3, 4, 5, 6, 10, rng.below(16)][rng.below(9)]
      let bind = [0, 1, 2, 10, rng.below(16)][rng.below(5)]
      bytes[at + 4] = UInt8(bind << 4 | type)
      return "symbol[\(index)].info"
    case 2:
      bytes[at + 5] = UInt8(truncatingIfNeeded: rng.below(256))
      return "symbol[\(index)].other"
    case 3:
      let choices: [UInt64] = [
        0, 0xfff1, 0xfff2, 0xffff, 0xff00, UInt64(elf.sectionCount),
        UInt64(rng.below(elf.sectionCount + 2)),
      ]
      Mutator.store(&bytes, Field(offset: at + 6, width: 2), choices[rng.below(choices.count)])
      return "symbol[\(index)].shndx"
    case 4:
      set(&bytes, Field(offset: at + 8, width: 8), count: 0)
      return "symbol[\(index)].value"
    default:
      set(&bytes, Field(offset: at + 16, width: 8), count: 0)
      return "symbol[\(index)].size"
    }
  }

  mutating func relocation(_ bytes: inout [UInt8], _ elf: ELFLayout) -> String? {
    let tables = elf.relocationTables.filter { $0.count > 0 }
    guard !tables.isEmpty else { return nil }
    let table = tables[rng.below(tables.count)]
    let index = rng.below(table.count)
    let at = table.offset + index * 24
    switch rng.below(4) {
    case 0:
      set(&bytes, Field(offset: at, width: 8), count: 0)
      return "rela[\(index)].offset"
    case 1:
      // The x86-64 relocation types are 0-43; some beyond.
      let type = rng.chance(85) ? UInt64(rng.below(44)) : value(old: 0, width: 4, count: 44)
      Mutator.store(&bytes, Field(offset: at + 8, width: 4), type)
      return "rela[\(index)].type"
    case 2:
      let symbol =
        rng.chance(80)
        ? UInt64(rng.below(max(elf.symbolCount + 2, 1)))
        : value(old: 0, width: 4, count: elf.symbolCount)
      Mutator.store(&bytes, Field(offset: at + 12, width: 4), symbol)
      return "rela[\(index)].symbol"
    default:
      set(&bytes, Field(offset: at + 16, width: 8), count: 0)
      return "rela[\(index)].addend"
    }
  }

  mutating func stringTable(_ bytes: inout [UInt8], _ elf: ELFLayout) -> String? {
    let tables = elf.stringTables.filter { $0.size > 0 }
    guard !tables.isEmpty else { return nil }
    let table = tables[rng.below(tables.count)]
    let at = table.offset + rng.below(table.size)
    switch rng.below(3) {
    case 0: bytes[at] = 0
    case 1: bytes[at] = UInt8(truncatingIfNeeded: 0x21 + rng.below(94))
    default: bytes[table.offset + table.size - 1] = UInt8(truncatingIfNeeded: 0x41 + rng.below(26))
    }
    return "string-table"
  }

  mutating func group(_ bytes: inout [UInt8], _ elf: ELFLayout) -> String? {
    guard let table = elf.groups.first(where: { $0.count > 0 }) else { return nil }
    let index = rng.below(table.count)
    let word: UInt64 =
      index == 0 ? [0, 1, 2, 0xffff_ffff][rng.below(4)] : UInt64(rng.below(elf.sectionCount + 3))
    Mutator.store(
      &bytes, Field(offset: table.offset + index * 4, width: 4), rng.chance(90) ? word : rng.next())
    return "group[\(index)]"
  }

  mutating func archiveHeader(_ bytes: inout [UInt8], _ archive: ArchiveLayout) -> String? {
    guard !archive.headers.isEmpty else { return nil }
    let at = archive.headers[rng.below(archive.headers.count)]
    // name 16, date 12, uid 6, gid 6, mode 8, size 10, fmag 2: rewrite one as decimal text.
    let fields = [(0, 16), (16, 12), (28, 6), (34, 6), (40, 8), (48, 10), (58, 2)]
    let (offset, width) = fields[rng.below(fields.count)]
    let texts = [
      "0", "-1", "99999999999", "/", "//", "/0", "/99999", "/SYM64/", "\(rng.below(1 << 20))",
      "\(rng.below(64))",
    ]
    let text = Array(texts[rng.below(texts.count)].utf8.prefix(width))
    for i in 0..<width where at + offset + i < bytes.count {
      bytes[at + offset + i] = i < text.count ? text[i] : 0x20
    }
    return "archive-header+\(offset)"
  }

  mutating func generic(_ bytes: inout [UInt8]) -> String {
    if bytes.isEmpty {
      bytes = [UInt8](repeating: 0, count: 1 + rng.below(64))
      return "extend"
    }
    switch rng.below(7) {
    case 0:
      for _ in 0..<(1 + rng.below(8)) {
        let bit = rng.below(bytes.count * 8)
        bytes[bit / 8] ^= UInt8(1 << (bit % 8))
      }
      return "bit-flip"
    case 1:
      for _ in 0..<(1 + rng.below(4)) {
        bytes[rng.below(bytes.count)] =
          rng.chance(50)
          ? UInt8(truncatingIfNeeded: rng.next()) : [0, 0xff, 0x7f, 0x80, 1][rng.below(5)]
      }
      return "byte-set"
    case 2:
      bytes.removeLast(rng.below(bytes.count))
      return "truncate"
    case 3:
      let extra = 1 + rng.below(rng.chance(80) ? 64 : 4096)
      let fill = rng.chance(50)
      for _ in 0..<extra { bytes.append(fill ? 0 : UInt8(truncatingIfNeeded: rng.next())) }
      return "extend"
    case 4:
      let other = seeds[rng.below(seeds.count)]
      guard !other.isEmpty else { return "splice" }
      let cut = rng.below(bytes.count + 1)
      let from = rng.below(other.count)
      bytes = Array(bytes[0..<cut]) + Array(other[from...])
      return "splice"
    case 5:
      let other = seeds[rng.below(seeds.count)]
      let at = rng.below(min(bytes.count, other.count) + 1)
      let length = min(1 + rng.below(256), bytes.count - at, other.count - at)
      if length > 0 { bytes.replaceSubrange(at..<(at + length), with: other[at..<(at + length)]) }
      return "copy-chunk"
    default:
      let at = rng.below(bytes.count)
      let length = min(1 + rng.below(64), bytes.count - at)
      if rng.chance(50) {
        bytes.removeSubrange(at..<(at + length))
        return "delete-bytes"
      }
      bytes.insert(contentsOf: bytes[at..<(at + length)], at: at)
      return "duplicate-bytes"
    }
  }
}
