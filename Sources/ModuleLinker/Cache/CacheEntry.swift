import ELFObject
import LKMBase

// The format of a cache entry: what a cached load needs besides the image's bytes. Written by a
// link that missed, read (every field bounds-checked: a damaged entry is a miss, never a crash)
// by a load that hits.
//
// File: a 64-byte header, the metadata, then the image at a page-aligned offset (long runs of
// zero pages left out as holes). Little-endian throughout.

/// What an address in a cached image is computed from at load time.
enum AddressClass: Equatable {
  /// An offset in the image: base + offset.
  case image(UInt64)
  /// An external's address, by index in the entry's externals.
  case external(Int)
  /// A fixed address (an absolute symbol, or 0).
  case absolute(UInt64)

  var tag: UInt8 {
    switch self {
    case .image: 0
    case .external: 1
    case .absolute: 2
    }
  }

  var payload: UInt64 {
    switch self {
    case .image(let offset): offset
    case .external(let index): UInt64(index)
    case .absolute(let value): value
    }
  }
}

/// Appends little-endian fields to bytes.
struct ByteWriter {
  var bytes: [UInt8] = []

  mutating func u8(_ value: UInt8) { bytes.append(value) }
  mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
  mutating func u32(_ value: UInt32) {
    unsafe withUnsafeBytes(of: value.littleEndian) { unsafe bytes.append(contentsOf: $0) }
  }
  mutating func u64(_ value: UInt64) {
    unsafe withUnsafeBytes(of: value.littleEndian) { unsafe bytes.append(contentsOf: $0) }
  }
  mutating func int(_ value: Int) { u64(UInt64(bitPattern: Int64(value))) }
  mutating func string(_ value: String) {
    var value = value
    value.withUTF8 { utf8 in
      u32(UInt32(utf8.count))
      unsafe bytes.append(contentsOf: utf8)
    }
  }
  mutating func optionalString(_ value: String?) {
    bool(value != nil)
    if let value { string(value) }
  }
  mutating func address(_ value: AddressClass) {
    u8(value.tag)
    u64(value.payload)
  }
}

/// Why a cache entry cannot be used.
struct CacheFormatError: Error {
  var reason: String
}

/// Reads little-endian fields from a range of bytes, every read checked.
struct ByteReader {
  let bytes: FileBytes
  var at: Int
  let end: Int

  init(_ bytes: FileBytes, _ range: Range<Int>) {
    self.bytes = bytes
    self.at = range.lowerBound
    self.end = range.upperBound
  }

  func fail(_ what: String) -> CacheFormatError {
    CacheFormatError(reason: "damaged entry: \(what) at \(hex(at))")
  }

  mutating func take(_ count: Int) throws(CacheFormatError) -> Int {
    guard count >= 0, count <= end - at else { throw fail("truncated") }
    let start = at
    at += count
    return start
  }

  mutating func u8() throws(CacheFormatError) -> UInt8 {
    let start = try take(1)
    return bytes.loadLittleEndian(UInt8.self, at: start)
  }
  mutating func bool() throws(CacheFormatError) -> Bool { try u8() != 0 }
  mutating func u32() throws(CacheFormatError) -> UInt32 {
    let start = try take(4)
    return bytes.loadLittleEndian(UInt32.self, at: start)
  }
  mutating func u64() throws(CacheFormatError) -> UInt64 {
    let start = try take(8)
    return bytes.loadLittleEndian(UInt64.self, at: start)
  }
  mutating func int() throws(CacheFormatError) -> Int { Int(Int64(bitPattern: try u64())) }
  /// A count of items of at least `size` bytes each, bounded by what is left.
  mutating func count(_ size: Int) throws(CacheFormatError) -> Int {
    let n = Int(try u32())
    guard n <= (end - at) / max(size, 1) else { throw fail("count \(n) too large") }
    return n
  }
  /// An offset or size within `limit`.
  mutating func offset(within limit: Int) throws(CacheFormatError) -> Int {
    let value = try u64()
    guard value <= UInt64(limit) else { throw fail("offset \(hex(value)) beyond \(hex(limit))") }
    return Int(value)
  }
  mutating func string() throws(CacheFormatError) -> String {
    let n = Int(try u32())
    let start = try take(n)
    return bytes.string(start..<(start + n))
  }
  /// Whether the next string is `name` (UTF-8), read past either way: no String is made.
  mutating func string(equals name: UnsafeBufferPointer<UInt8>) throws(CacheFormatError) -> Bool {
    let n = Int(try u32())
    let start = try take(n)
    return unsafe n == name.count && bytes.bytes(start..<(start + n), equal: name)
  }
  mutating func optionalString() throws(CacheFormatError) -> String? {
    try bool() ? try string() : nil
  }
  mutating func address(externals: Int, size: Int) throws(CacheFormatError) -> AddressClass {
    let tag = try u8()
    let payload = try u64()
    switch tag {
    case 0:
      guard payload <= UInt64(size) else { throw fail("image offset \(hex(payload)) out of range") }
      return .image(payload)
    case 1:
      guard payload < UInt64(externals) else { throw fail("external \(payload) out of range") }
      return .external(Int(payload))
    case 2: return .absolute(payload)
    default: throw fail("address tag \(tag)")
    }
  }
}

/// An external as a cached image took it: looked up again at every load, it must come from the
/// same provider and be of the same kind and size (only its address may differ).
struct CachedExternal {
  var name: String
  /// The provider's name; `linker` for the linker's own `__cxa_atexit`; nil for nothing.
  var provider: String?
  var isFunction: Bool
  var size: UInt64?
  var isReadOnly: Bool
  /// PC-relative data references and calls (placement weights).
  var reach: Int
  var calls: Int
  /// A read-only host object a low module copies when it lies above 2 GiB; and whether it did.
  var copyCandidate: Bool
  var copied: Bool
  /// Whether it resolves a global of the module (else it is a thunk's target).
  var isGlobal: Bool
}

/// A stub candidate of a cached image, decided again at every load.
struct CachedStub {
  var target: AddressClass
  var pcRelative: Bool
  var absolute32: Bool
  var ifunc: Bool
  var name: String
}

/// The metadata of a cache entry.
struct CacheEntry {
  static let magic: UInt64 = 0x3230_4d49_4d4b_4c  // "LKMIMG02"
  static let headerSize = 64
  /// Runs of zero pages this long or longer are holes in the file, mapped anonymous.
  static let zeroRunPages = 16

  var size = 0
  var alignment: UInt64 = 4096
  var text = 0..<0
  var rodata = 0..<0
  var data = 0..<0
  var stubArea = 0
  var gotArea = 0
  var ehFrameArea: Int?
  var dsoHandleOffset = 0
  /// Whether calls to externals go through their stubs (``CallBinding/throughStubs``).
  var callsThroughStubs = false
  var needsLow = false
  var lowReason: String?
  var objectCount = 0
  var relocationCount = 0
  var relocationsByType: [(type: UInt8, count: Int)] = []
  var origins: [(input: Int, member: String?)] = []
  /// The runtime archives the link read (libgcc.a): their files and those files' identities,
  /// checked again by every hit (the key names a runtime archive only by its name, so that a
  /// link that needs none never looks for one).
  var runtimeFiles: [(path: String, identity: FileIdentity)] = []
  var externals: [CachedExternal] = []
  var copies: [(external: Int, offset: Int, size: Int)] = []
  var stubs: [CachedStub] = []
  /// The GOT slots of GOT references (stub slots follow).
  var slotCount = 0
  /// GOT slots whose value depends on the base or an external.
  var slots: [(slot: Int, target: AddressClass)] = []
  var ifuncSlots: [(slot: Int, resolver: Int)] = []
  var thunkSlots: [(slot: Int, external: Int)] = []
  var deferred: [(offset: Int, resolver: Int, addend: Int64)] = []
  /// The dependent fixups: where they are in the file (24 bytes each), read as they are
  /// applied.
  var fixups = 0..<0
  var initializers: [Int] = []
  var finalizers: [Int] = []
  var zeroRuns: [Range<Int>] = []
  /// Where each lazily read table is in the file.
  var tables: [Range<Int>] = []

  enum Table: Int, CaseIterable {
    case exports, functions, dataObjects, externals, slotNames, placements
  }
}

/// One dependent fixup as a cache entry stores it: 24 bytes.
struct CachedFixup {
  var field: UInt32
  var kind: FixupKind
  var type: X86_64Relocation
  var target: AddressClass
  var addend: Int64

  static let size = 24
}

extension ByteWriter {
  mutating func fixup(_ f: CachedFixup) {
    u32(f.field)
    u8(f.kind.rawValue)
    u8(UInt8(f.type.rawValue))
    u8(f.target.tag)
    u8(0)
    u64(f.target.payload)
    u64(UInt64(bitPattern: f.addend))
  }
}

extension CacheEntry {
  /// Reads fixup `k` (bounds checked against the image and the externals).
  func fixup(_ k: Int, in bytes: FileBytes) throws(CacheFormatError) -> CachedFixup {
    var reader = ByteReader(bytes, (fixups.lowerBound + k * 24)..<(fixups.lowerBound + k * 24 + 24))
    let field = try reader.u32()
    guard let kind = FixupKind(rawValue: try reader.u8()), kind.width > 0,
      Int(field) <= size - kind.width
    else { throw reader.fail("fixup \(k) field or kind") }
    guard let type = X86_64Relocation(rawValue: UInt32(try reader.u8())) else {
      throw reader.fail("fixup \(k) type")
    }
    let tag = try reader.u8()
    _ = try reader.u8()
    let payload = try reader.u64()
    let target: AddressClass
    switch tag {
    case 0 where payload <= UInt64(size): target = .image(payload)
    case 1 where payload < UInt64(externals.count): target = .external(Int(payload))
    case 2: target = .absolute(payload)
    default: throw reader.fail("fixup \(k) target")
    }
    let addend = Int64(bitPattern: try reader.u64())
    return CachedFixup(field: field, kind: kind, type: type, target: target, addend: addend)
  }

  /// Writes everything but the tables, then the tables (each located in the metadata).
  func encode(tables: [ByteWriter], fixups: ByteWriter, fixupCount: Int) -> [UInt8] {
    var w = ByteWriter()
    w.int(size)
    w.u64(alignment)
    for r in [text, rodata, data] {
      w.int(r.lowerBound)
      w.int(r.upperBound)
    }
    w.int(stubArea)
    w.int(gotArea)
    w.int(ehFrameArea ?? -1)
    w.int(dsoHandleOffset)
    w.bool(callsThroughStubs)
    w.bool(needsLow)
    w.optionalString(lowReason)
    w.int(objectCount)
    w.int(relocationCount)
    w.u32(UInt32(relocationsByType.count))
    for (type, count) in relocationsByType {
      w.u8(type)
      w.int(count)
    }
    w.u32(UInt32(origins.count))
    for (input, member) in origins {
      w.u32(UInt32(input))
      w.optionalString(member)
    }
    w.u32(UInt32(runtimeFiles.count))
    for (path, identity) in runtimeFiles {
      w.string(path)
      w.u64(identity.device)
      w.u64(identity.inode)
      w.u64(UInt64(bitPattern: identity.size))
      w.u64(UInt64(bitPattern: identity.modified))
      w.u64(UInt64(bitPattern: identity.changed))
    }
    w.u32(UInt32(externals.count))
    for e in externals {
      w.string(e.name)
      w.optionalString(e.provider)
      w.bool(e.isFunction)
      w.bool(e.size != nil)
      w.u64(e.size ?? 0)
      w.bool(e.isReadOnly)
      w.int(e.reach)
      w.int(e.calls)
      w.bool(e.copyCandidate)
      w.bool(e.copied)
      w.bool(e.isGlobal)
    }
    w.u32(UInt32(copies.count))
    for c in copies {
      w.u32(UInt32(c.external))
      w.int(c.offset)
      w.int(c.size)
    }
    w.u32(UInt32(stubs.count))
    for s in stubs {
      w.address(s.target)
      w.bool(s.pcRelative)
      w.bool(s.absolute32)
      w.bool(s.ifunc)
      w.string(s.name)
    }
    w.int(slotCount)
    w.u32(UInt32(slots.count))
    for (slot, target) in slots {
      w.u32(UInt32(slot))
      w.address(target)
    }
    w.u32(UInt32(ifuncSlots.count))
    for (slot, resolver) in ifuncSlots {
      w.u32(UInt32(slot))
      w.int(resolver)
    }
    w.u32(UInt32(thunkSlots.count))
    for (slot, external) in thunkSlots {
      w.u32(UInt32(slot))
      w.u32(UInt32(external))
    }
    w.u32(UInt32(deferred.count))
    for (offset, resolver, addend) in deferred {
      w.int(offset)
      w.int(resolver)
      w.u64(UInt64(bitPattern: addend))
    }
    for list in [initializers, finalizers] {
      w.u32(UInt32(list.count))
      for offset in list { w.int(offset) }
    }
    w.u32(UInt32(zeroRuns.count))
    for run in zeroRuns {
      w.int(run.lowerBound)
      w.int(run.upperBound)
    }
    // The fixups, then the tables, located relative to the metadata's start.
    var at = w.bytes.count + 4 + 8 + (tables.count * 16)
    w.u32(UInt32(fixupCount))
    w.int(at)
    at += fixups.bytes.count
    for table in tables {
      w.int(at)
      w.int(table.bytes.count)
      at += table.bytes.count
    }
    w.bytes += fixups.bytes
    for table in tables { w.bytes += table.bytes }
    return w.bytes
  }

  /// Reads the metadata at `range` of `bytes` (a mapped entry file).
  init(decoding bytes: FileBytes, _ range: Range<Int>) throws(CacheFormatError) {
    var r = ByteReader(bytes, range)
    size = try r.offset(within: 1 << 30)
    guard size > 0, size % pageSize == 0 else { throw r.fail("image size") }
    alignment = try r.u64()
    guard alignment >= UInt64(pageSize), alignment & (alignment - 1) == 0, alignment <= 1 << 20
    else { throw r.fail("alignment") }
    var ranges: [Range<Int>] = []
    for _ in 0..<3 {
      let lower = try r.offset(within: size)
      let upper = try r.offset(within: size)
      guard lower <= upper else { throw r.fail("segment") }
      ranges.append(lower..<upper)
    }
    (text, rodata, data) = (ranges[0], ranges[1], ranges[2])
    guard text.lowerBound == 0, rodata.lowerBound % pageSize == 0,
      data.lowerBound % pageSize == 0, text.upperBound <= rodata.lowerBound,
      rodata.upperBound <= data.lowerBound
    else { throw r.fail("segments") }
    stubArea = try r.offset(within: size)
    gotArea = try r.offset(within: size)
    let eh = try r.int()
    guard eh >= -1, eh < size else { throw r.fail("eh_frame") }
    ehFrameArea = eh >= 0 ? eh : nil
    dsoHandleOffset = try r.offset(within: size - 8)
    callsThroughStubs = try r.bool()
    needsLow = try r.bool()
    lowReason = try r.optionalString()
    objectCount = try r.offset(within: Int(UInt32.max))
    relocationCount = try r.offset(within: Int(UInt32.max))
    for _ in 0..<(try r.count(9)) {
      relocationsByType.append((try r.u8(), try r.offset(within: Int(UInt32.max))))
    }
    for _ in 0..<(try r.count(5)) {
      origins.append((Int(try r.u32()), try r.optionalString()))
    }
    for _ in 0..<(try r.count(44)) {
      let path = try r.string()
      let identity = FileIdentity(
        device: try r.u64(), inode: try r.u64(), size: Int64(bitPattern: try r.u64()),
        modified: Int64(bitPattern: try r.u64()), changed: Int64(bitPattern: try r.u64()))
      runtimeFiles.append((path, identity))
    }
    for _ in 0..<(try r.count(40)) {
      let name = try r.string()
      let provider = try r.optionalString()
      let isFunction = try r.bool()
      let hasSize = try r.bool()
      let size = try r.u64()
      externals.append(
        CachedExternal(
          name: name, provider: provider, isFunction: isFunction, size: hasSize ? size : nil,
          isReadOnly: try r.bool(), reach: try r.offset(within: Int(UInt32.max)),
          calls: try r.offset(within: Int(UInt32.max)), copyCandidate: try r.bool(),
          copied: try r.bool(), isGlobal: try r.bool()))
    }
    let n = externals.count
    for _ in 0..<(try r.count(20)) {
      let external = Int(try r.u32())
      let offset = try r.offset(within: size)
      let count = try r.offset(within: size - offset)
      guard external < n else { throw r.fail("copy") }
      copies.append((external, offset, count))
    }
    for _ in 0..<(try r.count(16)) {
      stubs.append(
        CachedStub(
          target: try r.address(externals: n, size: size), pcRelative: try r.bool(),
          absolute32: try r.bool(), ifunc: try r.bool(), name: try r.string()))
    }
    guard stubArea <= size - stubs.count * 8 else { throw r.fail("stub area") }
    slotCount = try r.offset(within: size / 8)
    let slotTotal = slotCount + stubs.count
    func slot(_ value: UInt32) throws(CacheFormatError) -> Int {
      guard gotArea + Int(value) * 8 <= size - 8 else { throw r.fail("GOT slot \(value)") }
      return Int(value)
    }
    guard gotArea + slotTotal * 8 <= size else { throw r.fail("GOT") }
    for _ in 0..<(try r.count(13)) {
      slots.append((try slot(try r.u32()), try r.address(externals: n, size: size)))
    }
    for _ in 0..<(try r.count(12)) {
      ifuncSlots.append((try slot(try r.u32()), try r.offset(within: size)))
    }
    for _ in 0..<(try r.count(8)) {
      let s = try slot(try r.u32())
      let external = Int(try r.u32())
      guard external < n else { throw r.fail("thunk") }
      thunkSlots.append((s, external))
    }
    for _ in 0..<(try r.count(24)) {
      deferred.append(
        (try r.offset(within: size - 8), try r.offset(within: size), Int64(bitPattern: try r.u64()))
      )
    }
    for k in 0..<2 {
      var list: [Int] = []
      for _ in 0..<(try r.count(8)) { list.append(try r.offset(within: size - 8)) }
      if k == 0 { initializers = list } else { finalizers = list }
    }
    for _ in 0..<(try r.count(16)) {
      let lower = try r.offset(within: size)
      let upper = try r.offset(within: size)
      guard lower <= upper, lower % pageSize == 0, upper % pageSize == 0 else {
        throw r.fail("zero run")
      }
      zeroRuns.append(lower..<upper)
    }
    let fixupCount = Int(try r.u32())
    let fixupStart = try r.offset(within: range.count)
    guard fixupCount <= (range.count - fixupStart) / CachedFixup.size else {
      throw r.fail("fixups")
    }
    fixups = (range.lowerBound + fixupStart)..<(range.lowerBound + fixupStart + fixupCount * 24)
    for _ in Table.allCases {
      let start = try r.offset(within: range.count)
      let count = try r.offset(within: range.count - start)
      tables.append((range.lowerBound + start)..<(range.lowerBound + start + count))
    }
  }
}
