/// A malformed or truncated message.
public struct WireError: Error, Sendable, CustomStringConvertible {
  public var description: String
  /// The errno a reply carries for it (OpenBSD's numbers): EINVAL, or EFBIG for a module over
  /// the size limit.
  public var errno: Int32
  public init(_ description: String, errno: Int32 = 22) {
    self.description = description
    self.errno = errno
  }
}

/// The little-endian `T` at `offset` of `bytes`, bytes past the end read as zero: the one
/// decoder of lkm's little-endian fields outside the ELF reader (frame lengths, report words,
/// OpenBSD structures).
@inlinable
public func loadLittleEndian<T: FixedWidthInteger, C: Collection<UInt8>>(
  _: T.Type, from bytes: C, at offset: Int = 0
) -> T where C.Index == Int {
  var value: T = 0
  let start = bytes.startIndex + offset
  for i in 0..<(T.bitWidth / 8) where start + i < bytes.endIndex {
    value |= T(truncatingIfNeeded: bytes[start + i]) << (8 * i)
  }
  return value
}

/// Little-endian encoding of the device messages: integers, length-prefixed strings and bytes.
public struct WireWriter: Sendable {
  public private(set) var bytes: [UInt8] = []
  public init() {}

  public mutating func int<T: FixedWidthInteger>(_ value: T) {
    unsafe withUnsafeBytes(of: value.littleEndian) { unsafe bytes.append(contentsOf: $0) }
  }
  public mutating func bool(_ value: Bool) { int(UInt8(value ? 1 : 0)) }
  public mutating func data(_ value: [UInt8]) {
    int(UInt32(value.count))
    bytes.append(contentsOf: value)
  }
  public mutating func string(_ value: String) { data(Array(value.utf8)) }
  public mutating func optionalString(_ value: String?) {
    bool(value != nil)
    if let value { string(value) }
  }
}

/// Reads what ``WireWriter`` wrote; every read is bounds-checked and throws on truncation.
public struct WireReader: Sendable {
  let bytes: [UInt8]
  var position = 0
  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public var isAtEnd: Bool { position == bytes.count }

  public mutating func int<T: FixedWidthInteger>(_: T.Type = T.self) throws(WireError) -> T {
    let size = MemoryLayout<T>.size
    guard bytes.count - position >= size else { throw WireError("truncated message") }
    var value: T = 0
    for i in 0..<size { value |= T(truncatingIfNeeded: bytes[position + i]) << (8 * i) }
    position += size
    return value
  }
  public mutating func bool() throws(WireError) -> Bool { try int(UInt8.self) != 0 }
  public mutating func data(limit: Int = Int(UInt32.max)) throws(WireError) -> [UInt8] {
    let count = Int(try int(UInt32.self))
    guard count <= limit else { throw WireError("field of \(count) bytes is over its limit") }
    guard bytes.count - position >= count else { throw WireError("truncated message") }
    defer { position += count }
    return Array(bytes[position..<position + count])
  }
  public mutating func string() throws(WireError) -> String {
    String(decoding: try data(limit: 1 << 20), as: UTF8.self)
  }
  public mutating func optionalString() throws(WireError) -> String? {
    try bool() ? try string() : nil
  }
  /// A count of following items, bounded so that a hostile count cannot allocate much.
  public mutating func count(limit: Int) throws(WireError) -> Int {
    let n = Int(try int(UInt32.self))
    guard n <= limit else { throw WireError("count \(n) is over its limit \(limit)") }
    return n
  }
}
