import ELFObject
import LKMBase

// Phase 4 of a link: layout → an address. Data the module reaches with 32-bit PC-relative
// references must be within ±2 GiB of every byte of the image; objects with 32-bit absolute
// references go below 2 GiB. Within what those allow, the image goes near the functions it
// calls most, so that few calls need a stub.

/// What placement needs to know of a module: its size and what it must and would rather reach.
struct PlacementRequest {
  var size: UInt64
  var alignment: UInt64
  var needsLow: Bool
  var lowReason: String?
  /// Data the module references PC-relatively: the address, how many references, a name for
  /// messages.
  var mustReach: [(address: UInt64, weight: Int, name: String)] = []
  /// Functions the module calls: the address and how many calls.
  var calls: [(address: UInt64, weight: Int)] = []
}

/// Where the base may go: `[low, high]`, nearest `preferred`.
struct PlacementBounds {
  var low: UInt64
  var high: UInt64
  var preferred: UInt64?
  /// False when some data cannot be reached from anywhere (relocation then names each site).
  var feasible: Bool
}

extension PlacementRequest {
  /// The request of a linked module: its reach constraints and calls, from the plan.
  init(_ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout) {
    self.init(
      size: UInt64(layout.size), alignment: layout.alignment, needsLow: plan.needsLow,
      lowReason: plan.lowReason)
    var calls: [UInt64: Int] = [:]
    for id in table.globals.indices {
      if plan.reachCount[id] > 0 {
        mustReach.append(
          (table.globals[id].address, Int(plan.reachCount[id]), table.globals[id].name))
      }
      if plan.callCount[id] > 0 {
        calls[table.globals[id].address, default: 0] += Int(plan.callCount[id])
      }
    }
    self.calls = calls.map { ($0.key, $0.value) }.sorted { $0.address < $1.address }
  }

  /// The bounds every constraint allows, and the preferred point: the candidate reaching the
  /// most calls and data.
  var bounds: PlacementBounds {
    var low = AddressSpace.lowest
    var high = AddressSpace.highest - size
    if needsLow { high = min(high, (1 << 31) - size) }
    var feasible = true
    for (address, _, _) in mustReach {
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
      low = AddressSpace.lowest
      high = needsLow ? (1 << 31) - size : AddressSpace.highest - size
    }
    var targets = calls
    for (address, weight, _) in mustReach { targets.append((address, weight)) }
    var preferred: UInt64?
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
    return PlacementBounds(low: low, high: high, preferred: preferred, feasible: feasible)
  }

  /// Maps the image where a load runs it: inside `regions` when there are any, else in this
  /// process's free address space.
  func map(in regions: [ModuleRegion], file: ImageFile? = nil) throws(LinkError) -> MappedImage {
    let bounds = self.bounds
    if !regions.isEmpty { return try mapInRegions(regions, bounds, file: file) }
    let byteCount = Int(size)
    // A dropped module's pages, where they satisfy what mapping afresh would.
    if file == nil,
      let image = MappedImage.reuseSpare(
        byteCount: byteCount,
        accept: { base in
          guard base >= bounds.low && base <= bounds.high && base % alignment == 0 else {
            return false
          }
          guard let preferred = bounds.preferred else { return !needsLow }
          let distance = base > preferred ? base - preferred : preferred - base
          return distance < pcReach - size
        })
    {
      return image
    }
    if let preferred = bounds.preferred {
      do {
        if let image = try AddressSpace.mapNear(
          byteCount: byteCount, alignment: alignment, low: bounds.low, high: bounds.high,
          preferred: preferred, file: file)
        {
          return image
        }
      } catch {
        throw LinkError(.memory, "cannot map \(hex(byteCount)) bytes for the module: \(error)")
      }
      if needsLow {
        throw LinkError(
          .unplaceable,
          "no free address space below 2 GiB for \(hex(byteCount)) bytes, needed by "
            + "\(lowReason ?? "32-bit absolute relocations")")
      }
    }
    do {
      return try MappedImage(byteCount: byteCount, at: nil, file: file)
    } catch {
      throw LinkError(.memory, "cannot map \(hex(byteCount)) bytes for the module: \(error)")
    }
  }

  /// A check's memory: inside `regions` when there are any (mapped there, so that no module
  /// memory is ever outside them, and relocated for that address), else scratch memory
  /// anywhere, relocated for ``plannedBase``.
  func mapForCheck(in regions: [ModuleRegion]) throws(LinkError) -> MappedImage {
    if !regions.isEmpty { return try mapInRegions(regions, bounds) }
    do {
      return try MappedImage(byteCount: Int(size), at: nil)
    } catch {
      throw LinkError(.memory, "cannot map \(hex(size)) bytes for the module: \(error)")
    }
  }

  /// A check's planned address, without looking at this process (the module may be checked
  /// for another one).
  var plannedBase: UInt64 {
    let bounds = self.bounds
    let planned = bounds.preferred ?? (needsLow ? 0x4000_0000 : 0x7f00_0000_0000)
    return (min(max(planned, bounds.low), max(bounds.low, bounds.high)) + alignment - 1)
      & ~(alignment - 1)
  }

  /// Maps the module inside one of `regions`, its base in `[low, high]` (what reach and low
  /// placement allow), nearest the preferred point.
  func mapInRegions(_ regions: [ModuleRegion], _ bounds: PlacementBounds, file: ImageFile? = nil)
    throws(LinkError) -> MappedImage
  {
    let (low, high, preferred) = (bounds.low, bounds.high, bounds.preferred)
    for _ in 0..<4 {
      // The region whose best base is nearest the preferred point (the first that fits when
      // nothing is preferred).
      var order: [(distance: UInt64, k: Int)] = []
      for (k, region) in regions.enumerated() {
        guard
          let base = region.candidate(
            size: size, alignment: alignment, low: low, high: high, preferred: preferred)
        else { continue }
        let target = preferred ?? base
        order.append((base > target ? base - target : target - base, k))
      }
      if order.isEmpty { break }
      for (_, k) in order.sorted(by: { ($0.distance, $0.k) < ($1.distance, $1.k) }) {
        let region = regions[k]
        guard
          let base = region.allocate(
            size: size, alignment: alignment, low: low, high: high, preferred: preferred)
        else { continue }  // taken meanwhile by another thread
        do {
          return try MappedImage(byteCount: Int(size), in: region, at: base, file: file)
        } catch {
          throw LinkError(.memory, "cannot map \(hex(size)) bytes for the module: \(error)")
        }
      }
    }
    throw unplaceable(regions, bounds)
  }

  /// Why no region can hold the module.
  func unplaceable(_ regions: [ModuleRegion], _ bounds: PlacementBounds) -> LinkError {
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
    if bounds.feasible {
      for (address, _, name) in mustReach {
        let lo = address > pcReach ? address - pcReach : 0
        let hi = address &+ pcReach >= size ? address &+ pcReach - size : 0
        if !intersects(lo, hi) {
          return LinkError(
            .unplaceable,
            "\(what): none lies within ±2 GiB of '\(name)' at \(hex(address)), which "
              + "the module references PC-relatively; recompile with -fPIC (or "
              + "-mno-direct-extern-access)")
        }
      }
      if bounds.low > AddressSpace.lowest || bounds.high < AddressSpace.highest - size {
        return LinkError(
          .unplaceable,
          "\(what): none has \(hex(size)) free bytes between \(hex(bounds.low)) and "
            + "\(hex(bounds.high &+ size)), where every reference the module makes reaches "
            + "(\(hex(free)) bytes free in all)")
      }
    }
    return LinkError(
      .unplaceable, "\(what): \(hex(free)) bytes are free, not in one piece large enough")
  }
}
