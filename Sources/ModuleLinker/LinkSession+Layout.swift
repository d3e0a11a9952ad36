import ELFObject

/// How far a 32-bit PC-relative reference can be trusted to reach from anywhere in an image:
/// ±2 GiB less 1 MiB for addends.
let pcReach: UInt64 = (1 << 31) - (1 << 20)
/// The largest image: every internal PC-relative reference must reach.
let maximumImageSize = 1 << 30
/// The largest section alignment honoured.
let maximumAlignment: UInt64 = 1 << 20

extension LinkSession {
  enum SegmentKind { case text, rodata, data, bss }

  func segment(of section: Section) -> SegmentKind {
    if section.isExecutable { return .text }
    if section.isNoBits { return .bss }
    if section.isWritable { return .data }
    return .rodata
  }

  static func isEHFrame(_ section: Section) -> Bool {
    (section.type == SectionType.x86_64Unwind || section.name == ".eh_frame") && !section.isNoBits
  }

  /// Assigns every kept allocated section, COMMON symbol, stub and GOT slot an offset in
  /// three page-aligned segments: text (r-x), read-only data (r--) and data (rw-).
  mutating func layOut() throws(LinkError) {
    var errors: [LinkError] = []
    var maxAlign = UInt64(pageSize)
    sectionOffsets = objects.map { [Int](repeating: -1, count: $0.sections.count) }
    var cursor: UInt64 = 0
    let limit = UInt64(maximumImageSize)

    func place(_ kind: SegmentKind, _ filter: (Section) -> Bool = { _ in true }) {
      for (o, object) in objects.enumerated() {
        for (s, section) in object.sections.enumerated()
        where section.isAllocated && !discardedSections[o][s] && segment(of: section) == kind
          && filter(section)
        {
          if section.flags & SectionFlags.tls != 0 {
            errors.append(
              LinkError(
                .unsupportedFeature,
                "\(object.name): section '\(section.name)' holds thread-local variables (__thread), which are not supported"))
            continue
          }
          if section.alignment > maximumAlignment {
            errors.append(
              LinkError(
                .tooLarge,
                "\(object.name): section '\(section.name)' alignment \(hex(section.alignment)) exceeds \(hex(maximumAlignment))"))
            continue
          }
          guard section.size <= limit, cursor <= limit else {
            errors.append(
              LinkError(
                .tooLarge,
                "\(object.name): section '\(section.name)' of \(hex(section.size)) bytes makes the module larger than \(hex(limit)) bytes"))
            continue
          }
          maxAlign = max(maxAlign, section.alignment)
          cursor = (cursor + section.alignment - 1) & ~(section.alignment - 1)
          sectionOffsets[o][s] = Int(cursor)
          cursor += section.size
        }
      }
    }
    func pageAlign() { cursor = (cursor + UInt64(pageSize) - 1) & ~UInt64(pageSize - 1) }

    // Text, then stubs (8 bytes each).
    place(.text)
    cursor = (cursor + 15) & ~15
    stubArea = Int(cursor)
    cursor += UInt64(stubCandidates.count * 8)
    thunkArea = Int(cursor)
    cursor += UInt64(thunks.count * 16)
    text = 0..<Int(cursor)
    pageAlign()

    // Read-only data, .eh_frame (contiguous, zero-terminated), GOT.
    let rodataStart = cursor
    place(.rodata) { !LinkSession.isEHFrame($0) }
    for k in hostCopies.indices {
      cursor = (cursor + 15) & ~15
      hostCopies[k].offset = Int(cursor)
      cursor += globals[hostCopies[k].id].external?.size ?? 0
    }
    var frames: [(Int, Int)] = []
    for (o, object) in objects.enumerated() {
      for (s, section) in object.sections.enumerated()
      where section.isAllocated && !discardedSections[o][s] && LinkSession.isEHFrame(section)
        && !section.isWritable && !section.isExecutable
      {
        frames.append((o, s))
      }
    }
    if !frames.isEmpty {
      cursor = (cursor + 7) & ~7
      ehFrameArea = Int(cursor)
      for (o, s) in frames {
        let section = objects[o].sections[s]
        guard section.size <= limit, cursor <= limit else {
          errors.append(
            LinkError(
              .tooLarge,
              "\(objects[o].name): section '\(section.name)' of \(hex(section.size)) bytes makes the module larger than \(hex(limit)) bytes"))
          continue
        }
        cursor = (cursor + 3) & ~3
        sectionOffsets[o][s] = Int(cursor)
        cursor += section.size
      }
      cursor = (cursor + 3) & ~3
      cursor += 4  // terminator
    }
    cursor = (cursor + 7) & ~7
    gotArea = Int(cursor)
    cursor += UInt64(max(gotSlots.count + stubCandidates.count + thunks.count, 1) * 8)
    rodata = Int(rodataStart)..<Int(cursor)
    pageAlign()

    // Data, bss, COMMON, __dso_handle.
    let dataStart = cursor
    place(.data)
    place(.bss)
    for id in globals.indices where globals[id].kind == .common {
      let align = globals[id].commonAlignment
      maxAlign = max(maxAlign, align)
      cursor = (cursor + align - 1) & ~(align - 1)
      commonOffsets[id] = Int(cursor)
      guard globals[id].commonSize <= limit else {
        errors.append(
          LinkError(.tooLarge, "COMMON symbol '\(globals[id].name)' of \(hex(globals[id].commonSize)) bytes is too large"))
        continue
      }
      cursor += globals[id].commonSize
    }
    cursor = (cursor + 7) & ~7
    dsoHandleOffset = Int(cursor)
    cursor += 8
    if cursor > limit {
      errors.append(
        LinkError(.tooLarge, "module image of \(hex(cursor)) bytes exceeds the \(hex(limit)) bytes a module may span"))
    }
    data = Int(dataStart)..<Int(cursor)
    pageAlign()
    imageSize = Int(cursor)
    imageAlignment = maxAlign
    if !errors.isEmpty {
      // The layout cannot go on without these sections: fatal, in check mode too.
      if checking {
        problems += errors
        throw LinkError.combine(problems)!
      }
      throw LinkError.combine(errors)!
    }
  }

  /// Chooses where the module goes and maps it there.
  ///
  /// Data the module reaches with 32-bit PC-relative references must be within ±2 GiB of every
  /// byte of the image; objects with 32-bit absolute references go below 2 GiB. Within what
  /// those allow, the image goes near the functions it calls most, so that few calls need a
  /// stub.
  mutating func mapImage() throws(LinkError) -> MappedImage {
    let size = UInt64(imageSize)
    var low = AddressSpace.lowest
    var high = AddressSpace.highest - size
    if needsLow { high = min(high, (1 << 31) - size) }
    var feasible = true
    for (address, _) in mustReach {
      let lo = address > pcReach ? address - pcReach : 0
      let hi = address &+ pcReach >= size ? address &+ pcReach - size : 0
      if lo > high || hi < low || max(lo, low) > min(hi, high) {
        feasible = false
        continue
      }
      low = max(low, lo)
      high = min(high, hi)
    }
    if !feasible {
      // Some data cannot be reached from anywhere; relocation names each site.
      low = AddressSpace.lowest
      high = needsLow ? (1 << 31) - size : AddressSpace.highest - size
    }
    // The preferred point: the candidate reaching the most calls.
    var targets = callTargets.map { ($0.key, $0.value) }
    for (address, _) in mustReach { targets.append((address, 1)) }
    var preferred: UInt64? = nil
    if !targets.isEmpty {
      var bestScore = -1
      for (candidate, _) in targets {
        let base = min(max(candidate, low), high)
        var score = 0
        for (address, weight) in targets {
          let far = address > base ? address - base : base - address
          if far < pcReach - size { score += weight }
        }
        if score > bestScore {
          bestScore = score
          preferred = base
        }
      }
    } else if needsLow {
      preferred = 0x4000_0000
    }
    if !options.regions.isEmpty {
      return try mapInRegions(low: low, high: high, preferred: preferred, feasible: feasible)
    }
    if checking {
      // A check plans the address (the free space of this process does not matter: the module
      // may be checked for another one) and relocates into scratch memory elsewhere.
      let align = imageAlignment
      let planned = preferred ?? (needsLow ? 0x4000_0000 : 0x7f00_0000_0000)
      virtualBase = (min(max(planned, low), max(low, high)) + align - 1) & ~(align - 1)
      do {
        return try MappedImage(byteCount: imageSize, at: nil)
      } catch {
        throw LinkError(.memory, "cannot map \(hex(imageSize)) bytes for the module: \(error)")
      }
    }
    if let preferred {
      for _ in 0..<4 {
        let space = AddressSpace.current()
        guard
          let base = space.findFree(
            size: size, alignment: imageAlignment, low: low, high: high, preferred: preferred)
        else { break }
        do {
          return try MappedImage(byteCount: imageSize, at: base)
        } catch {
          if error.errno == 17 { continue }  // EEXIST: raced with another mapping
          throw LinkError(.memory, "cannot map \(hex(imageSize)) bytes for the module: \(error)")
        }
      }
      if needsLow {
        throw LinkError(
          .unplaceable,
          "no free address space below 2 GiB for \(hex(imageSize)) bytes, needed by "
            + "\(lowReason ?? "32-bit absolute relocations")")
      }
    }
    do {
      return try MappedImage(byteCount: imageSize, at: nil)
    } catch {
      throw LinkError(.memory, "cannot map \(hex(imageSize)) bytes for the module: \(error)")
    }
  }

  /// Maps the module inside one of `options.regions`, its base in `[low, high]` (what reach
  /// and low placement allow), nearest `preferred`. A check maps there too (the plan is the
  /// address it got), so that no module memory is ever outside the regions.
  mutating func mapInRegions(low: UInt64, high: UInt64, preferred: UInt64?, feasible: Bool)
    throws(LinkError) -> MappedImage
  {
    let size = UInt64(imageSize)
    let regions = options.regions
    for _ in 0..<4 {
      // The region whose best base is nearest the preferred point (the first that fits when
      // nothing is preferred).
      var order: [(distance: UInt64, k: Int)] = []
      for (k, region) in regions.enumerated() {
        guard
          let base = region.candidate(
            size: size, alignment: imageAlignment, low: low, high: high, preferred: preferred)
        else { continue }
        let target = preferred ?? base
        order.append((base > target ? base - target : target - base, k))
      }
      if order.isEmpty { break }
      for (_, k) in order.sorted(by: { ($0.distance, $0.k) < ($1.distance, $1.k) }) {
        let region = regions[k]
        guard
          let base = region.allocate(
            size: size, alignment: imageAlignment, low: low, high: high, preferred: preferred)
        else { continue }  // taken meanwhile by another thread
        do {
          return try MappedImage(byteCount: imageSize, in: region, at: base)
        } catch {
          throw LinkError(.memory, "cannot map \(hex(imageSize)) bytes for the module: \(error)")
        }
      }
    }
    throw unplaceable(low: low, high: high, feasible: feasible)
  }

  /// Why no region can hold the module.
  func unplaceable(low: UInt64, high: UInt64, feasible: Bool) -> LinkError {
    let size = UInt64(imageSize)
    let regions = options.regions
    let list = regions.map(\.label).joined(separator: ", ")
    let free = regions.reduce(0) { $0 + $1.freeBytes }
    let what = "no room for the module's \(hex(size)) bytes in the module regions \(list)"
    func intersects(_ lo: UInt64, _ hi: UInt64) -> Bool {
      regions.contains { r in
        r.range.count >= size && hi >= r.range.lowerBound && lo <= r.range.upperBound - size
      }
    }
    if needsLow && !intersects(AddressSpace.lowest, (1 << 31) - size) {
      return LinkError(
        .unplaceable,
        "\(what): none lies below 2 GiB, where \(lowReason ?? "32-bit absolute relocations") "
          + "need it; recompile with -fPIC")
    }
    if feasible {
      for (address, ref) in mustReach {
        let lo = address > pcReach ? address - pcReach : 0
        let hi = address &+ pcReach >= size ? address &+ pcReach - size : 0
        if !intersects(lo, hi) {
          return LinkError(
            .unplaceable,
            "\(what): none lies within ±2 GiB of '\(name(of: ref))' at \(hex(address)), which "
              + "the module references PC-relatively; recompile with -fPIC (or "
              + "-mno-direct-extern-access)")
        }
      }
      if low > AddressSpace.lowest || high < AddressSpace.highest - size {
        return LinkError(
          .unplaceable,
          "\(what): none has \(hex(size)) free bytes between \(hex(low)) and \(hex(high &+ size)), "
            + "where every reference the module makes reaches (\(hex(free)) bytes free in all)")
      }
    }
    return LinkError(.unplaceable, "\(what): \(hex(free)) bytes are free, not in one piece large enough")
  }
}
