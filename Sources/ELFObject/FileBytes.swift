import LKMBase

#if canImport(Glibc)
  internal import Glibc
#endif

// Safety: a FileBytes uniquely owns `count` bytes at `base`, allocated (or mapped) in init and
// freed (or unmapped) in deinit. Nothing writes to them after init; every read through the
// public API is bounds-checked.

/// The bytes of one input file, read once and shared by the objects parsed from it.
///
/// Archive members are objects at an offset inside their archive's `FileBytes`, so a member is
/// never copied.
@safe public final class FileBytes: @unchecked Sendable {
  /// The start of the bytes; stable for the lifetime of the object. Only ELFObject's parsers
  /// read through it: everything else reads by offset (below) or, in ModuleLinker's `Image/`,
  /// through ``withUnsafeBytes(_:_:)``.
  @usableFromInline let base: UnsafeRawPointer
  /// How many bytes there are.
  public let count: Int
  /// The name used in messages (a path).
  public let name: String
  /// Whether the bytes are a mapping of the file (else an allocation).
  private let mapped: Bool
  /// The mapped file's identity when it was opened (nil for bytes read some other way).
  public let identity: FileIdentity?

  /// Copies `bytes`.
  public init(_ bytes: some Collection<UInt8>, name: String) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: max(bytes.count, 1), alignment: 16)
    // Contiguous bytes (an Array) are copied at once: the element-by-element copy of an
    // unspecialized generic was a tenth of the sandbox's time per module.
    let copied: Void? = bytes.withContiguousStorageIfAvailable {
      unsafe buffer.copyMemory(from: UnsafeRawBufferPointer($0))
    }
    if copied == nil { _ = unsafe buffer.initializeMemory(as: UInt8.self, from: bytes) }
    unsafe self.base = UnsafeRawPointer(buffer.baseAddress!)
    self.count = bytes.count
    self.name = name
    self.mapped = false
    self.identity = nil
  }

  /// Maps a whole file, read-only (no copy: the pages are the page cache's).
  ///
  /// The file must not be truncated while the bytes are in use (a read past the new end
  /// would fault), as with any mapped input of a linker.
  ///
  /// - Throws: ``ELFError/Code/unreadable`` with the host error text.
  public convenience init(contentsOf path: String) throws(ELFError) {
    let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw unsafe ELFError(.unreadable, file: path, String(cString: strerror(errno)))
    }
    defer { close(fd) }
    try self.init(mapping: fd, name: path)
  }

  /// Maps the whole file open on `descriptor` (which stays the caller's), read-only.
  ///
  /// - Throws: ``ELFError/Code/unreadable`` with the host error text, naming `name`.
  public init(mapping descriptor: Int32, name path: String) throws(ELFError) {
    var st = stat()
    guard unsafe fstat(descriptor, &st) == 0 else {
      throw unsafe ELFError(.unreadable, file: path, String(cString: strerror(errno)))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw ELFError(.unreadable, file: path, "not a regular file")
    }
    let size = Int(st.st_size)
    guard size <= 1 << 34 else {
      throw ELFError(.unreadable, file: path, "file of \(hex(size)) bytes is too large")
    }
    self.name = path
    self.identity = FileIdentity(st)
    guard size > 0 else {
      // Nothing to map: an empty allocation (the readers refuse 0 bytes).
      unsafe self.base = UnsafeRawPointer(
        UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
      self.count = 0
      self.mapped = false
      return
    }
    guard let p = unsafe mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
      unsafe p != MAP_FAILED
    else {
      throw unsafe ELFError(.unreadable, file: path, String(cString: strerror(errno)))
    }
    unsafe self.base = UnsafeRawPointer(p)
    self.count = size
    self.mapped = true
  }

  deinit {
    if mapped {
      unsafe munmap(UnsafeMutableRawPointer(mutating: base), count)
    } else {
      unsafe UnsafeMutableRawPointer(mutating: base).deallocate()
    }
  }

  /// Whether `[offset, offset + length)` lies inside the bytes (overflow-safe).
  @inlinable
  public func contains(offset: UInt64, length: UInt64) -> Bool {
    offset <= UInt64(count) && length <= UInt64(count) - offset
  }

  /// Loads a little-endian integer; the caller has checked the range.
  @inlinable
  func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
    unsafe T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
  }

  /// The little-endian `T` at `offset`.
  ///
  /// - Precondition: `[offset, offset + T's size)` lies inside the bytes.
  @inlinable
  public func loadLittleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
    checkRange(offset..<(offset + MemoryLayout<T>.size))
    return load(T.self, at: offset)
  }

  /// A copy of the bytes `range` (all of them by default).
  ///
  /// - Precondition: `range` lies inside the bytes.
  public func copyBytes(_ range: Range<Int>? = nil) -> [UInt8] {
    let range = range ?? 0..<count
    checkRange(range)
    return unsafe Array(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
  }

  /// The bytes `range` decoded as UTF-8.
  ///
  /// - Precondition: `range` lies inside the bytes.
  public func string(_ range: Range<Int>) -> String {
    checkRange(range)
    return unsafe String(
      decoding: UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count),
      as: UTF8.self)
  }

  /// Whether the bytes `range` are `other`'s.
  ///
  /// - Precondition: `range` lies inside the bytes.
  @inlinable
  public func bytes(_ range: Range<Int>, equal other: some Collection<UInt8>) -> Bool {
    checkRange(range)
    return unsafe UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
      .elementsEqual(other)
  }

  /// The hash of the bytes `range`.
  ///
  /// - Precondition: `range` lies inside the bytes.
  public func contentHash(_ range: Range<Int>) -> ContentHash {
    checkRange(range)
    return unsafe ContentHash(base + range.lowerBound, count: range.count)
  }

  /// Calls `body` with the bytes `range`: for ModuleLinker's `Image/`, which copies sections
  /// into a mapped image. The pointer must not escape `body`.
  ///
  /// - Precondition: `range` lies inside the bytes.
  package func withUnsafeBytes<R>(
    _ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R
  ) rethrows -> R {
    checkRange(range)
    return unsafe try body(
      UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
  }

  @inlinable
  func checkRange(_ range: Range<Int>) {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= count, "range outside the file's bytes")
  }
}

/// What identifies a file's contents without reading them: its device and inode, its size, and
/// its modification and status-change times (the latter set by the kernel on every write and
/// never by a user).
public struct FileIdentity: Sendable, Hashable {
  public var device: UInt64
  public var inode: UInt64
  public var size: Int64
  /// `st_mtim` in nanoseconds.
  public var modified: Int64
  /// `st_ctim` in nanoseconds.
  public var changed: Int64

  /// An identity as recorded: `modified` and `changed` in nanoseconds.
  public init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64) {
    self.device = device
    self.inode = inode
    self.size = size
    self.modified = modified
    self.changed = changed
  }

  init(_ st: stat) {
    device = UInt64(st.st_dev)
    inode = UInt64(st.st_ino)
    size = Int64(st.st_size)
    modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    changed = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
  }

  /// The identity of the file at `path` now, or nil if it cannot be read.
  public static func of(_ path: String) -> FileIdentity? {
    var st = stat()
    guard unsafe stat(path, &st) == 0 else { return nil }
    return FileIdentity(st)
  }
}

/// A 128-bit hash of bytes: what a cache keys contents by.
///
/// Four lanes of eight bytes (xxHash64's round), folded into two words: about 8 GB/s. Not a
/// cryptographic hash: it finds changed contents, not a forger (whoever can write a cache can
/// write its entries directly).
public struct ContentHash: Sendable, Hashable {
  public var high: UInt64
  public var low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  /// Thirty-two lowercase hex digits.
  public var hex: String {
    func digits(_ v: UInt64) -> String {
      let s = String(v, radix: 16)
      return String(repeating: "0", count: 16 - s.count) + s
    }
    return digits(high) + digits(low)
  }

  static let p1: UInt64 = 0x9e37_79b1_85eb_ca87
  static let p2: UInt64 = 0xc2b2_ae3d_27d4_eb4f
  static let p3: UInt64 = 0x1656_67b1_9e37_79f9
  static let p4: UInt64 = 0x85eb_ca77_c2b2_ae63

  @inline(__always)
  static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
    let a = acc &+ input &* p2
    return ((a << 31) | (a >> 33)) &* p1
  }

  @inline(__always)
  static func avalanche(_ value: UInt64) -> UInt64 {
    var h = value
    h ^= h >> 33
    h &*= p2
    h ^= h >> 29
    h &*= p3
    h ^= h >> 32
    return h
  }

  /// The hash of `count` bytes at `start`, continuing from `seed` (to chain several inputs).
  public init(
    _ start: UnsafeRawPointer?, count: Int, seed: ContentHash = ContentHash(high: 0, low: 0)
  ) {
    var a1 = seed.high &+ ContentHash.p1 &+ ContentHash.p2
    var a2 = seed.low &+ ContentHash.p2
    var a3 = seed.high ^ seed.low
    var a4 = seed.low &- ContentHash.p1
    var i = 0
    if let start = unsafe start {
      while i + 32 <= count {
        a1 = unsafe ContentHash.round(a1, start.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        a2 = unsafe ContentHash.round(
          a2, start.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
        a3 = unsafe ContentHash.round(
          a3, start.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
        a4 = unsafe ContentHash.round(
          a4, start.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
        i += 32
      }
      while i + 8 <= count {
        a1 = unsafe ContentHash.round(
          a1 ^ a3, start.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        a3 = (a3 << 27 | a3 >> 37) &+ a1
        i += 8
      }
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while i < count {
        unsafe tail |= UInt64(start.load(fromByteOffset: i, as: UInt8.self)) << shift
        shift += 8
        i += 1
      }
      a2 = ContentHash.round(a2 ^ a4, tail ^ shift)
    }
    let length = UInt64(truncatingIfNeeded: count)
    let h =
      (a1 << 1 | a1 >> 63) &+ (a2 << 7 | a2 >> 57) &+ (a3 << 12 | a3 >> 52)
      &+ (a4 << 18 | a4 >> 46)
    high = ContentHash.avalanche(h &+ length &* ContentHash.p4)
    low = ContentHash.avalanche((a1 ^ a3) &+ (a2 ^ a4) &* ContentHash.p3 &+ length &+ high)
  }
}

extension ContentHash {
  /// The hash of `bytes`, continuing from `seed`.
  public init(_ bytes: some Collection<UInt8>, seed: ContentHash = ContentHash(high: 0, low: 0)) {
    let contiguous = Array(bytes)
    self = unsafe contiguous.withUnsafeBytes {
      unsafe ContentHash($0.baseAddress, count: $0.count, seed: seed)
    }
  }
}

extension FileBytes {
  /// The hash of all the bytes.
  public func contentHash() -> ContentHash { unsafe ContentHash(base, count: count) }
}
