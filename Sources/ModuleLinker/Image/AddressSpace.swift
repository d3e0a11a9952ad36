internal import Glibc
import Synchronization

/// The process's mapped ranges, read from `/proc/self/maps`, and the search for a free range
/// where a module can be placed.
struct AddressSpace {
  struct Range {
    var start: UInt64
    var end: UInt64
    var name: Substring
    var executable: Bool
    var writable: Bool
  }

  /// The mapping containing `address`.
  func range(containing address: UInt64) -> Range? {
    var lo = 0
    var hi = ranges.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if ranges[mid].end <= address { lo = mid + 1 } else { hi = mid }
    }
    return lo < ranges.count && ranges[lo].start <= address ? ranges[lo] : nil
  }

  /// Whether `address` is in an executable mapping.
  func isExecutable(_ address: UInt64) -> Bool {
    var lo = 0
    var hi = ranges.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if ranges[mid].end <= address { lo = mid + 1 } else { hi = mid }
    }
    return lo < ranges.count && ranges[lo].start <= address && ranges[lo].executable
  }

  /// The lowest address user mappings may use (`vm.mmap_min_addr` is 64 KiB by default).
  static let lowest: UInt64 = 0x10000
  /// The top of the user address space on x86-64 with 4-level paging.
  static let highest: UInt64 = 0x7fff_ffff_f000

  var ranges: [Range] = []

  /// Reads the current mappings (parsed as bytes: lines `start-end perms offset dev inode name`).
  static func current() -> AddressSpace {
    var space = AddressSpace()
    let fd = unsafe open("/proc/self/maps", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return space }
    defer { close(fd) }
    var data: [UInt8] = []
    data.reserveCapacity(1 << 16)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = unsafe chunk.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      data.append(contentsOf: chunk[0..<n])
    }
    var i = 0
    let count = data.count
    func hexNumber() -> UInt64 {
      var value: UInt64 = 0
      while i < count {
        let c = data[i]
        let digit: UInt8
        switch c {
        case 0x30...0x39: digit = c - 0x30
        case 0x61...0x66: digit = c - 0x61 + 10
        default: return value
        }
        value = value << 4 | UInt64(digit)
        i += 1
      }
      return value
    }
    while i < count {
      let start = hexNumber()
      i += 1  // '-'
      let end = hexNumber()
      i += 1  // ' '
      let readable = i + 3 < count
      let writable = readable && data[i + 1] == 0x77
      let executable = readable && data[i + 2] == 0x78
      // Skip perms, offset, dev, inode: four fields, then spaces before the name.
      var fields = 0
      while i < count && data[i] != 10 && fields < 4 {
        if data[i] == 0x20 {
          fields += 1
          while i < count && data[i] == 0x20 { i += 1 }
          continue
        }
        i += 1
      }
      let nameStart = i
      while i < count && data[i] != 10 { i += 1 }
      let name = String(decoding: data[nameStart..<i], as: UTF8.self)
      i += 1
      space.ranges.append(
        Range(
          start: start, end: end, name: Substring(name), executable: executable, writable: writable)
      )
    }
    return space
  }

  /// The free gaps, with room kept for the heap to grow and below the stack.
  func gaps() -> [(start: UInt64, end: UInt64)] {
    var result: [(UInt64, UInt64)] = []
    var cursor = AddressSpace.lowest
    for range in ranges {
      if range.start > cursor { result.append((cursor, range.start)) }
      cursor = max(cursor, range.end)
      if range.name == "[heap]" { cursor = max(cursor, range.end &+ (256 << 20)) }
    }
    if cursor < AddressSpace.highest { result.append((cursor, AddressSpace.highest)) }
    // Leave room below the stack.
    if let stack = ranges.first(where: { $0.name == "[stack]" }) {
      result = result.map { gap in
        gap.1 == stack.start
          ? (gap.0, gap.1 > gap.0 + (64 << 20) ? gap.1 - (64 << 20) : gap.0) : gap
      }
    }
    return result
  }

  /// The base address, aligned to `alignment`, of a free range of `size` bytes whose base lies
  /// in `[low, high]`, as close to `preferred` as possible; nil if there is none.
  func findFree(size: UInt64, alignment: UInt64, low: UInt64, high: UInt64, preferred: UInt64)
    -> UInt64?
  {
    var best: UInt64?
    var bestDistance = UInt64.max
    func consider(_ candidate: UInt64) {
      let distance = candidate > preferred ? candidate - preferred : preferred - candidate
      if distance < bestDistance {
        best = candidate
        bestDistance = distance
      }
    }
    for (start, end) in gaps() {
      // Bases that fit: [start aligned up, end - size aligned down] ∩ [low, high].
      guard end > start, end - start >= size else { continue }
      let first = (max(start, low) + alignment - 1) & ~(alignment - 1)
      guard end >= size, end - size >= first else { continue }
      let last = min((end - size) & ~(alignment - 1), high & ~(alignment - 1))
      guard first <= last else { continue }
      let clamped = min(max(preferred & ~(alignment - 1), first), last)
      consider(clamped)
    }
    return best
  }
}

extension AddressSpace {
  /// The mappings as placement last read them, kept up to date with the images this process
  /// maps and unmaps itself, so that a link does not read `/proc/self/maps`. Whatever else
  /// changed is found when `MAP_FIXED_NOREPLACE` refuses a range (or nothing seems free): the
  /// maps are read again then.
  private static let known = Mutex<AddressSpace?>(nil)

  /// Maps `byteCount` bytes read-write at a free base in `[low, high]` nearest `preferred`
  /// (aligned), or returns nil when there is none.
  ///
  /// - Throws: ``ImageError`` for anything but a range taken meanwhile.
  static func mapNear(
    byteCount: Int, alignment: UInt64, low: UInt64, high: UInt64, preferred: UInt64,
    file: ImageFile? = nil
  ) throws(ImageError) -> MappedImage? {
    // While the maps were never read (the first links of a process): the kernel's choice, with
    // the preferred point as a hint, when it satisfies every constraint and still reaches the
    // preferred point. It usually does: the kernel maps just below the libraries a module calls
    // and reaches.
    if known.withLock({ $0 == nil }) && alignment <= UInt64(pageSize) {
      let image = try MappedImage(byteCount: byteCount, hint: preferred, file: file)
      let base = image.baseAddress
      let distance = base > preferred ? base - preferred : preferred - base
      if base >= low && base <= high && distance < pcReach - UInt64(byteCount) { return image }
    }
    for attempt in 0..<5 {
      let base: UInt64? = known.withLock { space in
        if space == nil || attempt > 0 { space = AddressSpace.current() }
        return space!.findFree(
          size: UInt64(byteCount), alignment: alignment, low: low, high: high,
          preferred: preferred)
      }
      guard let base else {
        if attempt == 0 { continue }  // ranges since freed may still be in the known maps
        return nil
      }
      do {
        let image = try MappedImage(byteCount: byteCount, at: base, file: file)
        known.withLock { $0?.insert(base..<(base + UInt64(byteCount))) }
        return image
      } catch {
        if error.errno == EEXIST { continue }  // something else mapped there since
        throw error
      }
    }
    return nil
  }

  /// Notes that this process unmapped `range` (an image it mapped).
  static func forget(_ range: Swift.Range<UInt64>) {
    known.withLock { $0?.remove(range) }
  }

  /// Adds a mapping that lies in no known range.
  mutating func insert(_ range: Swift.Range<UInt64>) {
    var k = 0
    while k < ranges.count && ranges[k].start < range.lowerBound { k += 1 }
    ranges.insert(
      Range(
        start: range.lowerBound, end: range.upperBound, name: "", executable: false, writable: true),
      at: k)
  }

  /// Takes `range` out of every known mapping (cutting the ones it overlaps).
  mutating func remove(_ range: Swift.Range<UInt64>) {
    var result: [Range] = []
    result.reserveCapacity(ranges.count + 1)
    for r in ranges {
      guard r.start < range.upperBound && r.end > range.lowerBound else {
        result.append(r)
        continue
      }
      if r.start < range.lowerBound {
        var left = r
        left.end = range.lowerBound
        result.append(left)
      }
      if r.end > range.upperBound {
        var right = r
        right.start = range.upperBound
        result.append(right)
      }
    }
    ranges = result
  }
}
