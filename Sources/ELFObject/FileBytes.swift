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
public final class FileBytes: @unchecked Sendable {
  /// The start of the bytes; stable for the lifetime of the object.
  public let base: UnsafeRawPointer
  /// How many bytes there are.
  public let count: Int
  /// The name used in messages (a path).
  public let name: String
  /// Whether the bytes are a mapping of the file (else an allocation).
  private let mapped: Bool

  /// Copies `bytes`.
  public init(_ bytes: some Collection<UInt8>, name: String) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
    // Contiguous bytes (an Array) are copied at once: the element-by-element copy of an
    // unspecialized generic was a tenth of the sandbox's time per module.
    let copied: Void? = bytes.withContiguousStorageIfAvailable {
      buffer.copyMemory(from: UnsafeRawBufferPointer($0))
    }
    if copied == nil { _ = buffer.initializeMemory(as: UInt8.self, from: bytes) }
    self.base = UnsafeRawPointer(buffer.baseAddress!)
    self.count = bytes.count
    self.name = name
    self.mapped = false
  }

  /// Maps a whole file, read-only (no copy: the pages are the page cache's).
  ///
  /// The file must not be truncated while the bytes are in use (a read past the new end
  /// would fault), as with any mapped input of a linker.
  ///
  /// - Throws: ``ELFError/Code/unreadable`` with the host error text.
  public init(contentsOf path: String) throws(ELFError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ELFError(.unreadable, file: path, String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw ELFError(.unreadable, file: path, String(cString: strerror(errno)))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw ELFError(.unreadable, file: path, "not a regular file")
    }
    let size = Int(st.st_size)
    guard size <= 1 << 34 else {
      throw ELFError(.unreadable, file: path, "file of \(hex(size)) bytes is too large")
    }
    self.name = path
    guard size > 0 else {
      // Nothing to map: an empty allocation (the readers refuse 0 bytes).
      self.base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
      self.count = 0
      self.mapped = false
      return
    }
    guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
      throw ELFError(.unreadable, file: path, String(cString: strerror(errno)))
    }
    self.base = UnsafeRawPointer(p)
    self.count = size
    self.mapped = true
  }

  deinit {
    if mapped {
      munmap(UnsafeMutableRawPointer(mutating: base), count)
    } else {
      UnsafeMutableRawPointer(mutating: base).deallocate()
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
    T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
  }
}
