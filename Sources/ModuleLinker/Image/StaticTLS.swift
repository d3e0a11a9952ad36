// Thread-local storage for modules. A module's TLS block (its .tdata, then its .tbss) is given a
// range of a static TLS reservation: bytes of the host executable's own TLS block, so at one
// fixed offset from the thread pointer in every thread. Every TLS model then reduces to that
// offset: local-exec fields hold it, initial-exec GOT slots hold it, general- and local-dynamic
// GOT pairs name it to the linker's own __tls_get_addr, and TLS descriptors hand it back through
// a resolver that only reads it.
internal import CHostSymbols
import ELFObject
import Synchronization

/// Who gives every thread a module's initial thread-local values, when the host's TLS
/// initialization image does not (a kernel whose threads exist before its modules load).
public protocol StaticTLSInitializer: Sendable {
  /// Makes `image`, then `zeros` zero bytes, the initial contents of the range at
  /// `threadPointerOffset` in every thread that runs the module's code. False when it cannot.
  func install(threadPointerOffset: Int, image: [UInt8], zeros: Int) -> Bool
  /// The range at `threadPointerOffset` is free again (its module is gone).
  func release(threadPointerOffset: Int)
}

/// A static TLS reservation that modules' thread-local variables are allocated from.
///
/// The reservation is a `__thread` array of the executable (initial-exec): every thread has it
/// at the same offset from its thread pointer. Without an ``StaticTLSInitializer`` the array is
/// in `.tdata`, and ld.so fills it from the executable's TLS initialization image in every
/// thread it creates: a module's block is written into that image and into the loading thread's
/// block when the module loads, so that threads created afterwards — by the module, by a
/// library, by anyone — start with its `.tdata` values and zeroed `.tbss`. Threads other than
/// the loading one that exist when a module loads keep what was there (zeros unless a module
/// used the range before); lkmrun loads its program before any other thread exists. With an
/// initializer (the kernel's), the initializer is given the block instead.
///
/// The reservation is a fixed size (lkmrun's is 64 KiB): a module whose TLS does not fit fails
/// to link with ``LinkError/Code/tooLarge``, naming the sizes.
public final class StaticTLS: @unchecked Sendable {
  /// The reservation's size in bytes.
  public let size: Int
  /// The reservation's alignment (of its address in every thread).
  public let alignment: Int
  /// The reservation's first byte as an offset from the thread pointer (negative).
  let threadPointerOffset: Int64
  /// Ranges in use: offset in the reservation, size.
  private let used = Mutex<[(offset: Int, size: Int)]>([])
  /// Who gives threads a module's initial values; nil: the host's TLS initialization image.
  let initializer: (any StaticTLSInitializer)?

  /// The reservation at `address` (the calling thread's address of it), `size` bytes aligned to
  /// `alignment`.
  ///
  /// - Precondition: `address` is a thread-local block of the calling thread's static TLS
  ///   (within 1 MiB below the thread pointer).
  public init(
    address: UInt, size: Int, alignment: Int, initializer: (any StaticTLSInitializer)? = nil
  ) {
    let tp = UInt64(host_thread_pointer())
    let offset = Int64(bitPattern: UInt64(address) &- tp)
    precondition(offset < 0 && offset > -(1 << 20), "not in this thread's static TLS")
    self.size = size
    self.alignment = alignment
    self.threadPointerOffset = offset
    self.initializer = initializer
  }

  /// A reservation whose first byte is `threadPointerOffset` bytes from the thread pointer,
  /// given out only to links that run nothing: `initializer` receives every module's block.
  /// For tests that compare the linker's thread-local fields with another linker's at a known
  /// offset.
  package init(
    threadPointerOffset: Int64, size: Int, alignment: Int, initializer: any StaticTLSInitializer
  ) {
    self.size = size
    self.alignment = alignment
    self.threadPointerOffset = threadPointerOffset
    self.initializer = initializer
  }

  /// A range of `size` bytes aligned to `alignment`, or nil when none is free.
  func allocate(size: Int, alignment: Int) -> Int? {
    used.withLock { used in
      guard let offset = freeOffset(used, size: size, alignment: alignment) else { return nil }
      used.append((offset, size))
      return offset
    }
  }

  /// Whether a range of `size` bytes aligned to `alignment` is free now (a check's question).
  func hasRoom(size: Int, alignment: Int) -> Bool {
    alignment <= self.alignment
      && used.withLock { freeOffset($0, size: size, alignment: alignment) } != nil
  }

  /// The first free offset of `size` bytes aligned to `alignment` between the `used` ranges.
  private func freeOffset(_ used: [(offset: Int, size: Int)], size: Int, alignment: Int) -> Int? {
    var candidate = 0
    for range in used.sorted(by: { $0.offset < $1.offset }) {
      if candidate + size <= range.offset { break }
      candidate = max(candidate, (range.offset + range.size + alignment - 1) & ~(alignment - 1))
    }
    return candidate + size <= self.size ? candidate : nil
  }

  /// Frees the range at `offset` (its initialization image is zeroed, so that threads created
  /// afterwards find zeros there).
  func release(offset: Int) {
    let size = used.withLock { used -> Int in
      guard let k = used.firstIndex(where: { $0.offset == offset }) else { return 0 }
      return used.remove(at: k).size
    }
    guard size > 0 else { return }
    if let initializer {
      initializer.release(threadPointerOffset: Int(threadPointerOffset) + offset)
    } else {
      _ = host_static_tls_write(Int(threadPointerOffset) + offset, nil, 0, size)
    }
  }

  /// Writes a module's block at `offset`: `image` then `zeros` zero bytes, into the executable's
  /// TLS initialization image and the calling thread's block, or hands it to the initializer.
  func install(offset: Int, image: [UInt8], zeros: Int) -> Bool {
    if let initializer {
      return initializer.install(
        threadPointerOffset: Int(threadPointerOffset) + offset, image: image, zeros: zeros)
    }
    return unsafe image.withUnsafeBytes { bytes in
      unsafe host_static_tls_write(
        Int(threadPointerOffset) + offset, bytes.baseAddress, bytes.count, zeros) == 0
    }
  }

  /// The module-facing `__tls_get_addr` and the static TLS descriptor resolver.
  static let functions: (getAddr: UInt64, descriptorResolver: UInt64) = {
    var getAddr: UInt = 0
    var resolver: UInt = 0
    unsafe host_tls_functions(&getAddr, &resolver)
    return (UInt64(getAddr), UInt64(resolver))
  }()

  /// The module number of a TLS index whose offset is from the thread pointer.
  static let staticModule = UInt64(HOST_TLS_STATIC_MODULE)

  /// The offset from the thread pointer of a host thread-local variable at `address` (this
  /// thread's), if it is in static TLS.
  static func hostOffset(_ address: UInt64) -> Int64? {
    guard let p = unsafe UnsafeRawPointer(bitPattern: UInt(address)) else { return nil }
    var offset = 0
    return unsafe host_static_tls_offset(p, &offset) != 0 ? Int64(offset) : nil
  }
}

/// A module's range of the reservation: released when the module goes.
final class TLSBlock: @unchecked Sendable {
  let reserve: StaticTLS
  /// The range's offset in the reservation.
  let offset: Int
  /// The block's first byte as an offset from the thread pointer.
  var threadPointerOffset: Int64 { reserve.threadPointerOffset + Int64(offset) }

  init(reserve: StaticTLS, offset: Int) {
    self.reserve = reserve
    self.offset = offset
  }

  deinit { reserve.release(offset: offset) }
}

extension TLSBlock {
  /// The module's block of `layout`, allocated from `reserve`; nil when the module has no
  /// thread-local variables of its own.
  ///
  /// - Throws: ``LinkError/Code/tooLarge`` when the reservation has no room for it.
  static func allocate(_ reserve: StaticTLS?, _ layout: Layout) throws(LinkError) -> TLSBlock? {
    guard let reserve, layout.threadLocalSize > 0 else { return nil }
    let alignment = layout.threadLocalAlignment
    guard alignment <= reserve.alignment,
      let offset = reserve.allocate(size: layout.threadLocalSize, alignment: alignment)
    else { throw doesNotFit(reserve, layout) }
    return TLSBlock(reserve: reserve, offset: offset)
  }

  /// A check's verdict: nil when the module's block would fit `reserve` now.
  static func checkRoom(_ reserve: StaticTLS?, _ layout: Layout) -> LinkError? {
    guard let reserve, layout.threadLocalSize > 0,
      !reserve.hasRoom(size: layout.threadLocalSize, alignment: layout.threadLocalAlignment)
    else { return nil }
    return doesNotFit(reserve, layout)
  }

  private static func doesNotFit(_ reserve: StaticTLS, _ layout: Layout) -> LinkError {
    LinkError(
      .tooLarge,
      "the module's thread-local variables (\(layout.threadLocalSize) bytes, aligned to "
        + "\(layout.threadLocalAlignment)) do not fit the static TLS reservation (\(reserve.size) "
        + "bytes, aligned to \(reserve.alignment), shared by every module)")
  }

  /// Writes the block's initial contents (the relocated `.tdata` image, then zeros for
  /// `.tbss`) where every thread created from now on, and this one, find them.
  func install(_ image: borrowing MappedImage, _ layout: Layout) throws(LinkError) {
    var bytes = [UInt8](repeating: 0, count: layout.threadLocalInitSize)
    for k in bytes.indices {
      bytes[k] = image.loadLittleEndian(UInt8.self, at: layout.threadLocalImage + k)
    }
    guard
      reserve.install(
        offset: offset, image: bytes, zeros: layout.threadLocalSize - layout.threadLocalInitSize)
    else {
      throw LinkError(
        .memory, "cannot write the module's thread-local variables' initial values")
    }
  }
}

extension ThreadLocalPlacement {
  /// The placement of `block`, laid out by `layout`.
  init(_ block: TLSBlock, _ table: SymbolTable, _ layout: Layout) {
    var sections: [SectionPlacement] = []
    for (o, object) in table.objects.enumerated() {
      let base = table.sectionBase[o]
      for s in 0..<object.sectionCount {
        guard let offset = layout.threadLocalOffset[base + s] else { continue }
        sections.append(
          SectionPlacement(
            object: object.name, index: s, name: object.sectionName(s), address: UInt64(offset),
            size: object.sectionSize(s)))
      }
    }
    self.init(
      threadPointerOffset: block.threadPointerOffset, size: layout.threadLocalSize,
      alignment: layout.threadLocalAlignment, sections: sections.sorted { $0.address < $1.address })
  }
}
