// Safety: the names are byte ranges of string tables (or other storage) that the table's owner
// keeps alive as long as the table: an Archive its FileBytes, a link its objects.

/// A symbol name as bytes (no terminating NUL) and its hash: how the linker's hot path handles
/// names, without making a String.
@safe public struct SymbolName: @unchecked Sendable {
  public let start: UnsafeRawPointer?
  public let count: Int
  public let hash: UInt64

  /// The name at `start`, `count` bytes.
  @inlinable
  public init(start: UnsafeRawPointer?, count: Int) {
    unsafe self.start = unsafe start
    self.count = count
    self.hash = unsafe start.map { unsafe SymbolName.hash($0, count) } ?? SymbolName.hash(nil, 0)
  }

  /// The NUL-terminated name at `start`, at most `limit` bytes long.
  public init(terminated start: UnsafeRawPointer, limit: Int) {
    let end = unsafe system_memchr(start, 0, limit)
    unsafe self.init(start: start, count: end.map { unsafe $0 - start } ?? limit)
  }

  /// The offset of the name's first `@`, where a symbol version begins (`name@VERSION`, or
  /// `name@@VERSION` for the default version), if it has one.
  public var versionStart: Int? {
    guard let start = unsafe start, count > 0, let at = unsafe system_memchr(start, 0x40, count)
    else { return nil }
    return unsafe at - start
  }

  /// A hash of `count` bytes, read eight at a time (names average about 15 bytes: two words
  /// and a mix, instead of FNV's multiply per byte). Never reads outside the bytes.
  @inlinable
  static func hash(_ start: UnsafeRawPointer?, _ count: Int) -> UInt64 {
    let k: UInt64 = 0x9e37_79b9_7f4a_7c15
    var h: UInt64 = k ^ UInt64(truncatingIfNeeded: count)
    guard let start = unsafe start, count > 0 else { return mix(h) }
    var i = 0
    while i + 8 <= count {
      h = unsafe (h ^ start.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* k
      h ^= h >> 29
      i += 8
    }
    if i < count {
      var w: UInt64
      if count >= 8 {
        // The last eight bytes, overlapping the words already read.
        w = unsafe start.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
      } else {
        w = 0
        var shift: UInt64 = 0
        if count - i >= 4 {
          w = unsafe UInt64(start.loadUnaligned(fromByteOffset: i, as: UInt32.self))
          i += 4
          shift = 32
        }
        while i < count {
          unsafe w |= UInt64(start.load(fromByteOffset: i, as: UInt8.self)) << shift
          shift += 8
          i += 1
        }
      }
      h = (h ^ w) &* k
    }
    return mix(h)
  }

  /// splitmix64's finalizer: every input bit reaches the low bits a table masks.
  @inlinable
  static func mix(_ value: UInt64) -> UInt64 {
    var h = value
    h ^= h >> 30
    h &*= 0xbf58_476d_1ce4_e5b9
    h ^= h >> 27
    h &*= 0x94d0_49bb_1331_11eb
    h ^= h >> 31
    return h
  }

  /// Whether the two names are the same bytes.
  @inlinable
  public func equals(_ other: SymbolName) -> Bool {
    guard hash == other.hash, count == other.count else { return false }
    guard count > 0, let a = unsafe start, let b = unsafe other.start else { return true }
    return unsafe SymbolName.sameBytes(a, b, count)
  }

  /// Whether `count` bytes at `a` and `b` are equal (words, then the overlapping last word).
  @inlinable
  static func sameBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    if count < 8 {
      for i in 0..<count
      where unsafe a.load(fromByteOffset: i, as: UInt8.self)
        != b.load(fromByteOffset: i, as: UInt8.self)
      {
        return false
      }
      return true
    }
    var i = 0
    while i + 8 <= count {
      if unsafe a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        != b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      {
        return false
      }
      i += 8
    }
    return unsafe i == count
      || a.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        == b.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
  }

  /// Whether the name is `text`'s bytes.
  public func equals(_ text: StaticString) -> Bool {
    guard count == text.utf8CodeUnitCount else { return false }
    guard count > 0, let start = unsafe start else { return true }
    return unsafe system_memequal(start, text.utf8Start, count)
  }

  /// The name as a String, for messages and tables people read.
  public var string: String {
    guard let start = unsafe start, count > 0 else { return "" }
    return unsafe String(
      decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
  }
}

/// An open-addressing table of names: each distinct name gets an index, in insertion order.
///
/// The names are not copied: their bytes must outlive the table.
public struct SymbolNameTable: @unchecked Sendable {
  /// The names, by index.
  @usableFromInline internal(set) var _names: [SymbolName] = []
  public var names: [SymbolName] { _names }
  /// Slot → the name's hash in the high 32 bits and its index + 1 in the low 32 (0 for empty):
  /// most probes are decided without touching `names`.
  @usableFromInline var slots: [UInt64]
  @usableFromInline var mask: Int

  /// A table for about `capacity` names.
  public init(capacity: Int = 16) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    slots = [UInt64](repeating: 0, count: size)
    mask = size - 1
    _names.reserveCapacity(capacity)
  }

  public var count: Int { _names.count }

  /// The index of `name`, if present.
  @inlinable
  public func index(of name: SymbolName) -> Int? {
    let tag = name.hash >> 32
    var slot = Int(truncatingIfNeeded: name.hash) & mask
    while true {
      let entry = slots[slot]
      if entry == 0 { return nil }
      if entry >> 32 == tag {
        let k = Int(truncatingIfNeeded: entry & 0xffff_ffff) - 1
        if _names[k].equals(name) { return k }
      }
      slot = (slot + 1) & mask
    }
  }

  /// The index of `name`, inserting it at the end if it is new.
  @inlinable
  public mutating func insert(_ name: SymbolName) -> (index: Int, inserted: Bool) {
    let tag = name.hash >> 32
    var slot = Int(truncatingIfNeeded: name.hash) & mask
    while true {
      let entry = slots[slot]
      if entry == 0 { break }
      if entry >> 32 == tag {
        let k = Int(truncatingIfNeeded: entry & 0xffff_ffff) - 1
        if _names[k].equals(name) { return (k, false) }
      }
      slot = (slot + 1) & mask
    }
    _names.append(name)
    slots[slot] = tag << 32 | UInt64(_names.count)
    if _names.count * 2 > slots.count { grow() }
    return (_names.count - 1, true)
  }

  @usableFromInline
  mutating func grow() {
    let size = slots.count * 2
    slots = [UInt64](repeating: 0, count: size)
    mask = size - 1
    for (i, name) in _names.enumerated() {
      var slot = Int(truncatingIfNeeded: name.hash) & mask
      while slots[slot] != 0 { slot = (slot + 1) & mask }
      slots[slot] = (name.hash >> 32) << 32 | UInt64(i + 1)
    }
  }
}

/// Bytes that live as long as their owner: a name the linker makes itself (an entry point
/// given as a String), for a ``SymbolName``.
@safe public final class OwnedName: @unchecked Sendable {
  private let storage: UnsafeMutableRawPointer
  public let name: SymbolName

  public init(_ text: String) {
    var text = text
    let count = text.utf8.count
    let storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 1)
    text.withUTF8 { utf8 in
      if let source = utf8.baseAddress {
        unsafe storage.copyMemory(from: UnsafeRawPointer(source), byteCount: utf8.count)
      }
    }
    unsafe self.storage = unsafe storage
    name = unsafe SymbolName(start: storage, count: count)
  }

  deinit { unsafe storage.deallocate() }
}
