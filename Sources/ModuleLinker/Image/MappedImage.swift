import ELFObject
// The only file that calls mmap(2), mprotect(2) and munmap(2) for module memory.
//
// Safety: a MappedImage uniquely owns [base, base + byteCount). It is ~Copyable, deinit is the
// only unmap, and every access through it is an offset checked against byteCount.
internal import Glibc
import Synchronization

/// Errors from the kernel's memory calls.
public struct ImageError: Error, Sendable, CustomStringConvertible {
  public var call: String
  public var errno: Int32
  public var description: String {
    unsafe "\(call): \(String(cString: strerror(errno)).lowercased())"
  }
}

/// Page protection of one range of a module image.
public enum Protection: Sendable, CustomStringConvertible {
  case readExecute, readOnly, readWrite
  var flags: Int32 {
    switch self {
    case .readExecute: PROT_READ | PROT_EXEC
    case .readOnly: PROT_READ
    case .readWrite: PROT_READ | PROT_WRITE
    }
  }
  public var description: String {
    switch self {
    case .readExecute: "r-x"
    case .readOnly: "r--"
    case .readWrite: "rw-"
    }
  }
}

/// The page size of this machine.
public let pageSize: Int = Int(sysconf(Int32(_SC_PAGESIZE)))

/// An open file an image is mapped from: its descriptor and where the image starts in it (a
/// multiple of the page size). The descriptor stays the caller's to close.
public struct ImageFile: Sendable {
  public var descriptor: Int32
  public var offset: Int

  public init(descriptor: Int32, offset: Int) {
    self.descriptor = descriptor
    self.offset = offset
  }
}

/// A private mapping holding one module (anonymous, or a copy-on-write mapping of a cached
/// image), written through checked offsets.
@safe public struct MappedImage: ~Copyable {
  private let base: UnsafeMutableRawPointer
  /// The mapping's size, a whole number of pages.
  public let byteCount: Int
  /// The region the image was mapped in, which gets the range back (reserved again, not
  /// unmapped) when the image goes; nil for a mapping of its own.
  private let region: ModuleRegion?
  /// Whether the pages are anonymous memory (not a cached image's file).
  private let anonymous: Bool
  /// Whether the pages may become the process's spare when the image goes (a loaded module's:
  /// a failed link's are unmapped).
  private var reusable = false

  /// Maps `byteCount` bytes read-write at exactly `address`, or wherever the kernel likes
  /// when `address` is nil: zeros, or a private copy-on-write mapping of `file`'s pages.
  ///
  /// - Throws: ``ImageError`` (`EEXIST` when `address` is taken, `ENOMEM`).
  /// - Precondition: `byteCount` is a positive multiple of the page size.
  public init(byteCount: Int, at address: UInt64?, file: ImageFile? = nil) throws(ImageError) {
    precondition(byteCount > 0 && byteCount % pageSize == 0, "image size must be whole pages")
    var flags = MAP_PRIVATE | MAP_NORESERVE
    if file == nil {
      // MAP_POPULATE: the image is written whole at once, so fault its pages in one go. A
      // file's pages are faulted as they are used (most are never written).
      flags |= MAP_ANONYMOUS | (byteCount <= 64 << 20 ? MAP_POPULATE : 0)
    }
    let hint = unsafe address.flatMap { unsafe UnsafeMutableRawPointer(bitPattern: UInt($0)) }
    if unsafe hint != nil { flags |= 0x10_0000 }  // MAP_FIXED_NOREPLACE
    let p = unsafe mmap(
      hint, byteCount, PROT_READ | PROT_WRITE, flags, file?.descriptor ?? -1, file?.offset ?? 0)
    guard let p = unsafe p, unsafe p != MAP_FAILED else {
      throw ImageError(call: "mmap", errno: errno)
    }
    if let hint = unsafe hint, unsafe p != hint {
      // A kernel older than 4.17 treats MAP_FIXED_NOREPLACE as a hint.
      unsafe munmap(p, byteCount)
      throw ImageError(call: "mmap", errno: EEXIST)
    }
    unsafe self.base = unsafe p
    self.byteCount = byteCount
    self.region = nil
    self.anonymous = file == nil
  }

  /// Maps `byteCount` bytes read-write where the kernel likes, at `hint` if that range is free:
  /// zeros, or a private copy-on-write mapping of `file`'s pages.
  ///
  /// - Throws: ``ImageError`` (`ENOMEM`).
  /// - Precondition: `byteCount` is a positive multiple of the page size.
  init(byteCount: Int, hint: UInt64, file: ImageFile? = nil) throws(ImageError) {
    precondition(byteCount > 0 && byteCount % pageSize == 0, "image size must be whole pages")
    var flags = MAP_PRIVATE | MAP_NORESERVE
    if file == nil { flags |= MAP_ANONYMOUS | (byteCount <= 64 << 20 ? MAP_POPULATE : 0) }
    let p = unsafe mmap(
      UnsafeMutableRawPointer(bitPattern: UInt(hint & ~UInt64(pageSize - 1))), byteCount,
      PROT_READ | PROT_WRITE, flags, file?.descriptor ?? -1, file?.offset ?? 0)
    guard let p = unsafe p, unsafe p != MAP_FAILED else {
      throw ImageError(call: "mmap", errno: errno)
    }
    unsafe self.base = unsafe p
    self.byteCount = byteCount
    self.region = nil
    self.anonymous = file == nil
  }

  /// Maps `byteCount` bytes read-write at `address` inside `region`, over its reservation
  /// (`MAP_FIXED`): zeros, or a private copy-on-write mapping of `file`'s pages. The range must
  /// have been allocated from the region; it goes back to the region (reserved again) when the
  /// image goes, or at once if the mapping fails.
  ///
  /// - Throws: ``ImageError`` (`ENOMEM`).
  /// - Precondition: `byteCount` is a positive multiple of the page size.
  init(byteCount: Int, in region: ModuleRegion, at address: UInt64, file: ImageFile? = nil)
    throws(ImageError)
  {
    precondition(byteCount > 0 && byteCount % pageSize == 0, "image size must be whole pages")
    precondition(
      address >= region.range.lowerBound && UInt64(byteCount) <= region.range.upperBound - address,
      "image outside its region")
    var flags = MAP_PRIVATE | MAP_NORESERVE | MAP_FIXED
    if file == nil { flags |= MAP_ANONYMOUS | (byteCount <= 64 << 20 ? MAP_POPULATE : 0) }
    let hint = unsafe UnsafeMutableRawPointer(bitPattern: UInt(address))
    let p = unsafe mmap(
      hint, byteCount, PROT_READ | PROT_WRITE, flags, file?.descriptor ?? -1, file?.offset ?? 0)
    guard let p = unsafe p, unsafe p != MAP_FAILED else {
      let error = ImageError(call: "mmap", errno: errno)
      region.release(base: address, size: UInt64(byteCount))
      throw error
    }
    unsafe self.base = unsafe p
    self.byteCount = byteCount
    self.region = region
    self.anonymous = file == nil
  }

  /// Takes over `byteCount` bytes of anonymous read-write memory at `base` (the spare's).
  private init(adopting base: UnsafeMutableRawPointer, byteCount: Int) {
    unsafe self.base = unsafe base
    self.byteCount = byteCount
    self.region = nil
    self.anonymous = true
  }

  deinit {
    if let region {
      region.release(base: baseAddress, size: UInt64(byteCount))
    } else if unsafe reusable && anonymous && MappedImage.keepAsSpare(base, byteCount) {
      // Kept, PROT_NONE, for the next image.
    } else {
      let result = unsafe munmap(base, byteCount)
      precondition(result == 0, "munmap of a module image failed")
      AddressSpace.forget(baseAddress..<(baseAddress + UInt64(byteCount)))
    }
  }

  /// The address of the first byte.
  public var baseAddress: UInt64 { unsafe UInt64(UInt(bitPattern: base)) }

  @inline(__always)
  private func checkBounds(_ offset: Int, _ count: Int) {
    precondition(
      offset >= 0 && count >= 0 && offset <= byteCount - count, "image access out of bounds")
  }

  /// Stores `value` little-endian at `offset`.
  ///
  /// - Precondition: the field lies inside the image (offsets are computed by the linker).
  @inline(__always)
  public func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    checkBounds(offset, MemoryLayout<T>.size)
    unsafe (base + offset).storeBytes(of: value.littleEndian, as: T.self)
  }

  /// Stores `value` little-endian at `offset` unless the field already holds it (no write, so
  /// a copy-on-write page stays shared).
  @inline(__always)
  public func storeLittleEndianIfChanged<T: FixedWidthInteger>(_ value: T, at offset: Int) {
    checkBounds(offset, MemoryLayout<T>.size)
    if unsafe (base + offset).loadUnaligned(as: T.self) != value.littleEndian {
      unsafe (base + offset).storeBytes(of: value.littleEndian, as: T.self)
    }
  }

  /// Loads a little-endian value at `offset`.
  @inline(__always)
  public func loadLittleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
    checkBounds(offset, MemoryLayout<T>.size)
    return unsafe T(littleEndian: (base + offset).loadUnaligned(as: T.self))
  }

  /// Copies `bytes` to `offset`.
  public func copy(_ bytes: UnsafeRawBufferPointer, to offset: Int) {
    guard let source = bytes.baseAddress, bytes.count > 0 else { return }
    checkBounds(offset, bytes.count)
    unsafe (base + offset).copyMemory(from: source, byteCount: bytes.count)
  }

  /// Copies `count` bytes of this process's memory at `address` (a read-only host object the
  /// module copies, found by dladdr) to `offset`; nothing for address 0 or count 0.
  func copyHostMemory(at address: UInt64, count: Int, to offset: Int) {
    guard let source = unsafe UnsafeRawPointer(bitPattern: UInt(address)), count > 0 else { return }
    unsafe copy(UnsafeRawBufferPointer(start: source, count: count), to: offset)
  }

  /// Copies section `section` of `object` (nothing for `SHT_NOBITS`) to `offset`.
  func copy(section: Int, of object: ObjectFile, to offset: Int) {
    unsafe object.withContents(ofSection: section) { unsafe copy($0, to: offset) }
  }

  /// Changes the protection of the pages in `[offset, offset + count)`.
  public func protect(_ offset: Int, _ count: Int, _ protection: Protection) throws(ImageError) {
    guard count > 0 else { return }
    checkBounds(offset, count)
    precondition(offset % pageSize == 0, "protection must start on a page")
    guard unsafe mprotect(base + offset, count, protection.flags) == 0 else {
      throw ImageError(call: "mprotect", errno: errno)
    }
  }

  /// The address of byte `offset`.
  @inline(__always)
  public func address(_ offset: Int) -> UInt64 { baseAddress &+ UInt64(offset) }
}

// The spare: the pages of the last module image dropped (anonymous, whole, PROT_NONE while
// kept), so that the next link of a module of about its size maps and faults in nothing: its
// pages are protected read-write and cleared instead (a warm SQLite link spent 0.35 of 1.9 ms
// populating a fresh 1.2 MB mapping, and 0.17 ms more unmapping it at the drop). One at most,
// 64 MiB at most; a failed link's image is never kept (it leaves nothing behind).
private let spareImage = Mutex<(address: UInt, byteCount: Int)?>(nil)

extension MappedImage {
  /// Lets the pages become the process's spare when the image goes (a loaded module's image).
  mutating func allowReuse() { reusable = true }

  /// Keeps `[base, base + count)` as the spare (PROT_NONE), unmapping the spare it replaces;
  /// false when the pages cannot be kept.
  fileprivate static func keepAsSpare(_ base: UnsafeMutableRawPointer, _ count: Int) -> Bool {
    guard count <= 64 << 20, unsafe mprotect(base, count, PROT_NONE) == 0 else { return false }
    let old = spareImage.withLock { spare in
      let old = spare
      spare = (UInt(bitPattern: base), count)
      return old
    }
    if let old { unmapSpare(old.address, old.byteCount) }
    return true
  }

  private static func unmapSpare(_ address: UInt, _ count: Int) {
    let result = unsafe munmap(UnsafeMutableRawPointer(bitPattern: address), count)
    precondition(result == 0, "munmap of a spare module image failed")
    AddressSpace.forget(UInt64(address)..<(UInt64(address) + UInt64(count)))
  }

  /// The spare's pages as a zeroed read-write image of `byteCount` bytes, when the spare holds
  /// at least that many (at most twice: the rest is unmapped) and `accept` takes its address;
  /// nil otherwise (the spare is left as it is).
  static func reuseSpare(byteCount: Int, accept: (UInt64) -> Bool) -> MappedImage? {
    let taken: (address: UInt, byteCount: Int)? = spareImage.withLock { spare in
      guard let s = spare, s.byteCount >= byteCount, s.byteCount <= 2 * byteCount,
        accept(UInt64(s.address))
      else { return nil }
      spare = nil
      return s
    }
    guard let taken, let p = unsafe UnsafeMutableRawPointer(bitPattern: taken.address) else {
      return nil
    }
    guard unsafe mprotect(p, byteCount, PROT_READ | PROT_WRITE) == 0 else {
      unmapSpare(taken.address, taken.byteCount)
      return nil
    }
    if taken.byteCount > byteCount {
      unmapSpare(taken.address + UInt(byteCount), taken.byteCount - byteCount)
    }
    unsafe memset(p, 0, byteCount)
    return unsafe MappedImage(adopting: p, byteCount: byteCount)
  }

  /// Replaces the pages of `[offset, offset + count)` with fresh zero pages (a cached image's
  /// long runs of zeros, which its file does not hold).
  ///
  /// - Precondition: the range is whole pages inside the image.
  func zeroPages(_ offset: Int, _ count: Int) throws(ImageError) {
    guard count > 0 else { return }
    checkBounds(offset, count)
    precondition(offset % pageSize == 0 && count % pageSize == 0, "zero pages must be whole")
    let p = unsafe mmap(
      base + offset, count, PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0)
    guard unsafe p != MAP_FAILED else { throw ImageError(call: "mmap", errno: errno) }
  }

  /// The runs of at least `minimum` whole pages that are all zeros, in order.
  func zeroRuns(minimumPages minimum: Int) -> [Range<Int>] {
    var runs: [Range<Int>] = []
    var start = -1
    var page = 0
    while page < byteCount {
      var zero = true
      var i = 0
      while i < pageSize {
        if unsafe (base + page + i).load(as: UInt64.self) != 0 {
          zero = false
          break
        }
        i += 8
      }
      if zero {
        if start < 0 { start = page }
      } else if start >= 0 {
        if page - start >= minimum * pageSize { runs.append(start..<page) }
        start = -1
      }
      page += pageSize
    }
    if start >= 0 && byteCount - start >= minimum * pageSize { runs.append(start..<byteCount) }
    return runs
  }

  /// Writes the bytes of `range` to `descriptor` at `fileOffset` (`pwrite(2)`, whole).
  func write(_ range: Range<Int>, to descriptor: Int32, at fileOffset: Int) throws(ImageError) {
    checkBounds(range.lowerBound, range.count)
    var done = 0
    while done < range.count {
      let n = unsafe pwrite(
        descriptor, base + range.lowerBound + done, range.count - done, off_t(fileOffset + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw ImageError(call: "pwrite", errno: errno)
      }
      if n == 0 { throw ImageError(call: "pwrite", errno: EIO) }
      done += n
    }
  }

  /// Reads `range` of the image from `descriptor` at `fileOffset` (`pread(2)`, whole).
  func read(_ range: Range<Int>, from descriptor: Int32, at fileOffset: Int) throws(ImageError) {
    checkBounds(range.lowerBound, range.count)
    var done = 0
    while done < range.count {
      let n = unsafe pread(
        descriptor, base + range.lowerBound + done, range.count - done, off_t(fileOffset + done))
      if n < 0 {
        if errno == EINTR { continue }
        throw ImageError(call: "pread", errno: errno)
      }
      if n == 0 { throw ImageError(call: "pread", errno: EIO) }
      done += n
    }
  }
}
