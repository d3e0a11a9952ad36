#if canImport(Glibc)
  internal import Glibc
#endif

// Safety: the names are byte ranges of string tables (or other storage) that the table's owner
// keeps alive as long as the table: an Archive its FileBytes, a link its objects.

/// A symbol name as bytes (no terminating NUL) and its hash: how the linker's hot path handles
/// names, without making a String.
public struct SymbolName: @unchecked Sendable {
  public let start: UnsafeRawPointer?
  public let count: Int
  public let hash: UInt64

  /// The name at `start`, `count` bytes.
  @inlinable
  public init(start: UnsafeRawPointer?, count: Int) {
    self.start = start
    self.count = count
    // FNV-1a, 64 bits.
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    if let start {
      for i in 0..<count {
        h = (h ^ UInt64(start.load(fromByteOffset: i, as: UInt8.self))) &* 0x100_0000_01b3
      }
    }
    self.hash = h
  }

  /// The NUL-terminated name at `start`, at most `limit` bytes long.
  public init(terminated start: UnsafeRawPointer, limit: Int) {
    let end = memchr(start, 0, limit)
    self.init(start: start, count: end.map { UnsafeRawPointer($0) - start } ?? limit)
  }

  /// Whether the two names are the same bytes.
  public func equals(_ other: SymbolName) -> Bool {
    guard hash == other.hash, count == other.count else { return false }
    guard count > 0, let a = start, let b = other.start else { return true }
    return memcmp(a, b, count) == 0
  }

  /// The name as a String, for messages and tables people read.
  public var string: String {
    guard let start, count > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
  }
}

/// An open-addressing table of names: each distinct name gets an index, in insertion order.
///
/// The names are not copied: their bytes must outlive the table.
public struct SymbolNameTable: @unchecked Sendable {
  /// The names, by index.
  public private(set) var names: [SymbolName] = []
  /// Slot → name index + 1 (0 for empty).
  private var slots: [Int32]
  private var mask: Int

  /// A table for about `capacity` names.
  public init(capacity: Int = 16) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    slots = [Int32](repeating: 0, count: size)
    mask = size - 1
    names.reserveCapacity(capacity)
  }

  public var count: Int { names.count }

  /// The index of `name`, if present.
  public func index(of name: SymbolName) -> Int? {
    lookup(name)
  }

  func lookup(_ name: SymbolName) -> Int? {
    var slot = Int(truncatingIfNeeded: name.hash) & mask
    while true {
      let entry = Int(slots[slot])
      if entry == 0 { return nil }
      if names[entry - 1].equals(name) { return entry - 1 }
      slot = (slot + 1) & mask
    }
  }

  /// The index of `name`, inserting it at the end if it is new.
  public mutating func insert(_ name: SymbolName) -> (index: Int, inserted: Bool) {
    var slot = Int(truncatingIfNeeded: name.hash) & mask
    while true {
      let entry = Int(slots[slot])
      if entry == 0 { break }
      if names[entry - 1].equals(name) { return (entry - 1, false) }
      slot = (slot + 1) & mask
    }
    names.append(name)
    slots[slot] = Int32(names.count)
    if names.count * 2 > slots.count { grow() }
    return (names.count - 1, true)
  }

  private mutating func grow() {
    let size = slots.count * 2
    slots = [Int32](repeating: 0, count: size)
    mask = size - 1
    for (i, name) in names.enumerated() {
      var slot = Int(truncatingIfNeeded: name.hash) & mask
      while slots[slot] != 0 { slot = (slot + 1) & mask }
      slots[slot] = Int32(i + 1)
    }
  }
}

/// Bytes that live as long as their owner: a name the linker makes itself (an entry point
/// given as a String), for a ``SymbolName``.
public final class OwnedName: @unchecked Sendable {
  private let storage: UnsafeMutableRawPointer
  public let name: SymbolName

  public init(_ text: String) {
    var text = text
    let count = text.utf8.count
    let storage = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 1)
    text.withUTF8 { utf8 in
      if let source = utf8.baseAddress {
        storage.copyMemory(from: UnsafeRawPointer(source), byteCount: utf8.count)
      }
    }
    self.storage = storage
    name = SymbolName(start: storage, count: count)
  }

  deinit { storage.deallocate() }
}
