import ELFObject
// Reserved address ranges for module memory. With module code confined by a seccomp filter
// keyed on the instruction pointer, the ranges module code may run from must be known before
// the filter is installed: a region is reserved once (PROT_NONE), modules are mapped inside it
// with MAP_FIXED, and a module's pages go back to PROT_NONE when it is dropped, never unmapped,
// so that no other mapping can take the hole.
//
// Safety: a ModuleRegion owns [range.lowerBound, range.upperBound) from init to deinit; the free
// list is only read or written with the lock held; every sub-range handed out lies inside the
// reservation and is handed out once until released.
internal import Glibc
import LKMBase
import Synchronization

/// A reserved range of the address space that modules are mapped into.
///
/// The whole range is reserved at once with `mmap(PROT_NONE, MAP_NORESERVE)`: it costs no
/// memory, and no other mapping of the process can land in it. A link with
/// ``LinkOptions/regions`` maps each module inside one of its regions (`MAP_FIXED` over the
/// reservation); when the module is dropped its pages are reserved again (`PROT_NONE`, never
/// unmapped) and returned to the region's free list. Allocation is thread-safe.
///
/// The corresponding C functions are `mmap(2)` and `munmap(2)`; the reservation is unmapped
/// when the region is released, which cannot happen while a module mapped in it lives (each
/// module keeps its region).
public final class ModuleRegion: @unchecked Sendable {
  /// The reserved addresses.
  public let range: Range<UInt64>
  /// Free sub-ranges, sorted by address, never adjacent (coalesced).
  private let free: Mutex<[Range<UInt64>]>

  /// Reserves `size` bytes (rounded up to whole pages).
  ///
  /// - Parameters:
  ///   - size: how many bytes to reserve.
  ///   - within: the addresses the whole reservation must lie in (for example
  ///     `0x10000...0x7fff_ffff` for modules compiled `-fno-pic` or `-mcmodel=kernel`, which
  ///     must sit below 2 GiB); nil for anywhere.
  ///   - near: an address to reserve as close to as possible (the host's data, so that
  ///     PC-relative references from default-PIE modules reach it); nil lets the kernel choose
  ///     when `within` is nil too, and takes the lowest free range of `within` otherwise.
  /// - Throws: ``LinkError/Code/unplaceable`` when no free range of that size lies in
  ///   `within`; ``LinkError/Code/memory`` when the kernel refuses the reservation.
  public init(reserving size: Int, within: ClosedRange<UInt64>? = nil, near: UInt64? = nil)
    throws(LinkError)
  {
    guard size > 0 else { throw LinkError(.tooLarge, "a module region of \(size) bytes is empty") }
    let bytes = (UInt64(size) + UInt64(pageSize) - 1) & ~UInt64(pageSize - 1)
    let low = max(within?.lowerBound ?? AddressSpace.lowest, AddressSpace.lowest)
    let top = min(
      within.map { $0.upperBound == .max ? .max : $0.upperBound + 1 } ?? .max,
      AddressSpace.highest)
    guard top > low, top - low >= bytes else {
      throw LinkError(
        .unplaceable,
        "cannot reserve a module region of \(hex(bytes)) bytes in \(ModuleRegion.show(within)): "
          + "the range is smaller")
    }
    let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
    var base: UInt64?
    if within == nil && near == nil {
      let p = unsafe mmap(nil, Int(bytes), PROT_NONE, flags, -1, 0)
      guard let p = unsafe p, unsafe p != MAP_FAILED else {
        throw LinkError(
          .memory,
          "cannot reserve a module region of \(hex(bytes)) bytes: \(ModuleRegion.errorText())")
      }
      base = UInt64(UInt(bitPattern: p))
    } else {
      // Free space changes under us (other threads map too): look, then map with
      // MAP_FIXED_NOREPLACE, a few times.
      for _ in 0..<8 {
        let space = AddressSpace.current()
        guard
          let candidate = space.findFree(
            size: bytes, alignment: UInt64(pageSize), low: low, high: top - bytes,
            preferred: near ?? low)
        else { break }
        let hint = unsafe UnsafeMutableRawPointer(bitPattern: UInt(candidate))
        let p = unsafe mmap(hint, Int(bytes), PROT_NONE, flags | MAP_FIXED_NOREPLACE_FLAG, -1, 0)
        if let p = unsafe p, unsafe p != MAP_FAILED {
          if unsafe p == hint {
            base = candidate
            break
          }
          unsafe munmap(p, Int(bytes))  // a kernel older than 4.17 took the flag as a hint
          continue
        }
        if errno == EEXIST { continue }
        throw LinkError(
          .memory,
          "cannot reserve a module region of \(hex(bytes)) bytes: \(ModuleRegion.errorText())")
      }
    }
    guard let base else {
      throw LinkError(
        .unplaceable,
        "cannot reserve a module region of \(hex(bytes)) bytes in \(ModuleRegion.show(within)): "
          + "no free range is large enough")
    }
    range = base..<(base + bytes)
    free = Mutex([range])
  }

  deinit {
    let result = unsafe munmap(
      UnsafeMutableRawPointer(bitPattern: UInt(range.lowerBound)), range.count)
    precondition(result == 0, "munmap of a module region failed")
  }

  /// How many bytes are not handed out.
  public var freeBytes: UInt64 {
    free.withLock { list in list.reduce(0) { $0 + UInt64($1.count) } }
  }

  /// The base a module of `size` bytes would get: aligned, inside a free sub-range, in
  /// `[low, high]`, nearest to `preferred` (the lowest when nil). Nothing is taken.
  func candidate(size: UInt64, alignment: UInt64, low: UInt64, high: UInt64, preferred: UInt64?)
    -> UInt64?
  {
    free.withLock { list in
      ModuleRegion.fit(
        list, size: size, alignment: alignment, low: low, high: high, preferred: preferred)?.base
    }
  }

  /// Takes a sub-range of `size` bytes as ``candidate(size:alignment:low:high:preferred:)``
  /// chooses it.
  func allocate(size: UInt64, alignment: UInt64, low: UInt64, high: UInt64, preferred: UInt64?)
    -> UInt64?
  {
    free.withLock { list in
      guard
        let (k, base) = ModuleRegion.fit(
          list, size: size, alignment: alignment, low: low, high: high, preferred: preferred)
      else { return nil }
      let hole = list[k]
      var pieces: [Range<UInt64>] = []
      if base > hole.lowerBound { pieces.append(hole.lowerBound..<base) }
      if base + size < hole.upperBound { pieces.append((base + size)..<hole.upperBound) }
      list.replaceSubrange(k...k, with: pieces)
      return base
    }
  }

  /// Reserves `[base, base + size)` again (PROT_NONE over whatever was mapped there) and puts
  /// it back in the free list.
  ///
  /// - Precondition: the range was handed out by this region and is not free.
  func release(base: UInt64, size: UInt64) {
    precondition(
      base >= range.lowerBound && size <= range.upperBound - base,
      "released range is outside its module region")
    let p = unsafe mmap(
      UnsafeMutableRawPointer(bitPattern: UInt(base)), Int(size), PROT_NONE,
      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0)
    unsafe precondition(p != MAP_FAILED, "re-reserving a module's range failed")
    free.withLock { list in
      var k = 0
      while k < list.count && list[k].lowerBound < base { k += 1 }
      precondition(
        (k == 0 || list[k - 1].upperBound <= base)
          && (k == list.count || base + size <= list[k].lowerBound),
        "released range was free")
      var piece = base..<(base + size)
      if k < list.count && list[k].lowerBound == piece.upperBound {
        piece = piece.lowerBound..<list[k].upperBound
        list.remove(at: k)
      }
      if k > 0 && list[k - 1].upperBound == piece.lowerBound {
        piece = list[k - 1].lowerBound..<piece.upperBound
        list.remove(at: k - 1)
        k -= 1
      }
      list.insert(piece, at: k)
    }
  }

  /// The free sub-range and base nearest `preferred` for `size` bytes.
  private static func fit(
    _ list: [Range<UInt64>], size: UInt64, alignment: UInt64, low: UInt64, high: UInt64,
    preferred: UInt64?
  ) -> (Int, base: UInt64)? {
    var best: (Int, UInt64)?
    var bestDistance = UInt64.max
    for (k, hole) in list.enumerated() where UInt64(hole.count) >= size {
      let first = (max(hole.lowerBound, low) &+ alignment &- 1) & ~(alignment - 1)
      guard first >= max(hole.lowerBound, low) else { continue }  // wrapped
      let last = min((hole.upperBound - size) & ~(alignment - 1), high & ~(alignment - 1))
      guard first <= last else { continue }
      guard let preferred else { return (k, first) }
      let base = min(max(preferred & ~(alignment - 1), first), last)
      let distance = base > preferred ? base - preferred : preferred - base
      if distance < bestDistance {
        best = (k, base)
        bestDistance = distance
      }
    }
    return best
  }

  static func show(_ within: ClosedRange<UInt64>?) -> String {
    within.map { "[\(hex($0.lowerBound)), \(hex($0.upperBound))]" } ?? "the address space"
  }

  private static func errorText() -> String { unsafe String(cString: strerror(errno)).lowercased() }

  /// `[0x…, 0x…)`, for messages.
  var label: String { "[\(hex(range.lowerBound)), \(hex(range.upperBound)))" }
}

/// `MAP_FIXED_NOREPLACE` (Linux 4.17), which Glibc's module may not export.
let MAP_FIXED_NOREPLACE_FLAG: Int32 = 0x10_0000
