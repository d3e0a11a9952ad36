import ELFObject
import LKMBase

// Phase 2 of a link: symbol table → fixup plan. Every relocation becomes a Fixup (the only step
// that reads relocation entries), then a counting pass over the fixups finds what layout and
// placement need: GOT slots, stub candidates, reach constraints, low placement, host copies.

/// What a stub candidate needs: a call out of reach (PC-relative), or a function's address in
/// a 32-bit absolute field (a low stub).
struct StubCandidate {
  var target: SymbolRef
  var pcRelative = false
  var absolute32 = false
}

/// A thread-local storage entry of the GOT (after the GOT's slots): what a
/// ``FixupKind/threadLocalGOTDelta32`` fixup points at.
struct ThreadLocalEntry: Hashable {
  enum Model: UInt8, Hashable {
    /// `R_X86_64_GOTTPOFF`: 8 bytes, the target's offset from the thread pointer.
    case initialExec
    /// `R_X86_64_TLSGD`: 16 bytes, {static module, the target's offset from the thread pointer}.
    case generalDynamic
    /// `R_X86_64_TLSLD`: 16 bytes, {static module, the module's block's offset}; one per module.
    case localDynamic
    /// `R_X86_64_GOTPC32_TLSDESC`: 16 bytes, {static descriptor resolver, the target's offset}.
    case descriptor

    init?(_ type: X86_64Relocation) {
      switch type {
      case .gottpoff: self = .initialExec
      case .tlsgd: self = .generalDynamic
      case .tlsld: self = .localDynamic
      case .gotpc32Tlsdesc: self = .descriptor
      default: return nil
      }
    }

    var size: Int { self == .initialExec ? 8 : 16 }
  }
  var model: Model
  /// The variable (for local-dynamic, none: the module's block).
  var target: SymbolRef
}

/// Phase 2's value: the fixups and what they need.
struct FixupPlan {
  var fixups: [Fixup] = []
  var runs: [FixupRun] = []
  /// Per global: its GOT slot, or -1. Module-local targets (rare) in a dictionary.
  var globalSlot: [Int32]
  var localSlots: [SymbolRef: Int] = [:]
  /// Each slot's target, in slot order (the order of first reference).
  var slotTargets: [SymbolRef] = []
  /// Per global: its stub candidate's ordinal, or -1; module-local ones in a dictionary.
  var globalStub: [Int32]
  var localStubs: [SymbolRef: Int] = [:]
  /// The stub candidates, by ordinal (stub slots follow the GOT slots).
  var stubs: [StubCandidate] = []
  /// Per global: PC-relative data references, which must reach it from every byte of the
  /// image; and calls, which would rather reach it than go through a stub.
  var reachCount: [Int32]
  var callCount: [Int32]
  /// 32-bit absolute references to module addresses: the image must lie below 2 GiB.
  var needsLow = false
  var lowReason: String?
  /// Read-only host objects a low module names with 32-bit references, copied into its
  /// read-only data (ld's copy relocation), by global id.
  var hostCopies: [Int] = []
  /// The read-only host objects a low module would copy (those above 2 GiB are), by global id.
  var copyCandidates: [Int] = []
  /// The GOT's thread-local entries, in order, each with its offset in the TLS entry area.
  var threadLocalEntries: [(entry: ThreadLocalEntry, offset: Int)] = []
  var threadLocalOffsets: [ThreadLocalEntry: Int] = [:]
  var threadLocalAreaSize = 0
  /// Whether any fixup is of thread-local storage.
  var usesThreadLocal = false
  /// Relocations by psABI type number, and in all.
  var counts = [Int](repeating: 0, count: 64)
  var relocationCount = 0

  init(globals: Int) {
    globalSlot = [Int32](repeating: -1, count: globals)
    globalStub = [Int32](repeating: -1, count: globals)
    reachCount = [Int32](repeating: 0, count: globals)
    callCount = [Int32](repeating: 0, count: globals)
  }

  /// The GOT slot of `ref`, if it has one.
  func slot(of ref: SymbolRef) -> Int? {
    if case .global(let id) = ref {
      let slot = globalSlot[Int(id)]
      return slot >= 0 ? Int(slot) : nil
    }
    return localSlots[ref]
  }

  /// The stub candidate ordinal of `ref`, if it is one.
  func stubOrdinal(of ref: SymbolRef) -> Int? {
    if case .global(let id) = ref {
      let ordinal = globalStub[Int(id)]
      return ordinal >= 0 ? Int(ordinal) : nil
    }
    return localStubs[ref]
  }

  /// Relocation counts by psABI type number, those that occur, for statistics.
  var relocationCounts: [(type: UInt8, count: Int)] {
    counts.enumerated().filter { $0.element > 0 }.map { (UInt8($0.offset), $0.element) }
  }
}

extension FixupPlan {
  /// Phase 2: translates every relocation of every kept section (refusing unsupported types
  /// and fields past their section), then scans the fixups.
  static func translate(_ table: SymbolTable, problems: inout Problems) throws(LinkError)
    -> FixupPlan
  {
    var plan = FixupPlan(globals: table.globals.count)
    var errors: [LinkError] = []
    var total = 0
    for object in table.objects {
      for rs in object.relocationSections { total += rs.entries.count }
    }
    let isExternal = table.globals.indices.map { table.isExternal(global: $0) }
    let isIFunc = table.globals.map { $0.isIFunc && $0.isDefined }
    // Globals whose fixups the scan must see: externals and the module's IFUNCs. The other
    // fixups need nothing unless they use a GOT slot or a 32-bit absolute field.
    let special = zip(isExternal, isIFunc).map { $0 || $1 }
    var copyCandidate = [Bool](repeating: false, count: table.globals.count)
    var counts = [Int](repeating: 0, count: 64)
    var scanned: [(fixup: Int, object: Int, section: Int)] = []
    var runs: [FixupRun] = []
    // Objects that lost a COMDAT group to an earlier copy: their references to its local
    // symbols (section symbols) are looked at.
    let pruned = table.objects.indices.map { o in
      table.discarded[table.sectionBase[o]..<table.sectionBase[o + 1]].contains(true)
    }
    // The translation proper: one pass over the RELA entries, read in place.
    let translations = Fixup.translations
    plan.fixups = unsafe [Fixup](unsafeUninitializedCapacity: total) { fixups, count in
      unsafe table.globalOf.withUnsafeBufferPointer { globalOf in
        unsafe special.withUnsafeBufferPointer { special in
          unsafe counts.withUnsafeMutableBufferPointer { counts in
            for (o, object) in table.objects.enumerated() {
              let symbols = table.symbolBase[o]
              let sections = table.sectionBase[o]
              for rs in object.relocationSections {
                let section = rs.target
                guard !table.discarded[sections + section] else { continue }
                let sectionSize = object.sectionSize(section)
                let first = count
                unsafe rs.entries.withEntryBytes { raw, n in
                  for k in 0..<n {
                    let entry = unsafe raw + k * 24
                    let offset = unsafe entry.loadUnaligned(as: UInt64.self)
                    let info = unsafe entry.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                    let addend = unsafe entry.loadUnaligned(fromByteOffset: 16, as: Int64.self)
                    let symbol = UInt32(truncatingIfNeeded: info >> 32)
                    let global = unsafe globalOf[symbols + Int(symbol)]
                    let rawType = UInt32(truncatingIfNeeded: info)
                    guard rawType < 64, let (type, kind) = translations[Int(rawType)],
                      let offset32 = UInt32(exactly: offset)
                    else {
                      let relocation = Relocation(
                        offset: offset, type: UInt32(truncatingIfNeeded: info),
                        symbolIndex: symbol, addend: addend)
                      errors.append(refusal(relocation, o, section, table))
                      continue
                    }
                    let fixup = Fixup(
                      addend: addend, offset32: offset32,
                      symbol: global >= 0 ? UInt32(bitPattern: global) : symbol, kind: kind,
                      type: type, isGlobal: global >= 0)
                    unsafe counts[Int(fixup.type.rawValue)] += 1
                    if fixup.kind == .none { continue }
                    if fixup.kind.isThreadLocal && table.threadLocalStorage == nil {
                      let symbolName = object.displayName(ofSymbol: Int(symbol))
                      errors.append(
                        LinkError(
                          .unsupportedRelocation,
                          "\(table.site(o, section, offset)): \(fixup.type.abiName) "
                            + "\(X86_64Relocation.threadLocalRefusal) (against '\(symbolName)')"))
                      continue
                    }
                    if global < 0 && pruned[o],
                      let dropped = discardedTarget(table, o, Int(symbol), section, offset, fixup)
                    {
                      // An FDE of a discarded COMDAT copy: its fields stay 0, which the
                      // unwinder skips (as for ld's removed link-once functions).
                      if let error = dropped { errors.append(error) }
                      continue
                    }
                    guard UInt64(fixup.kind.width) <= sectionSize - offset else {
                      errors.append(
                        LinkError(
                          .malformedInput,
                          "\(table.site(o, section, offset)): \(fixup.type.abiName) field of "
                            + "\(fixup.kind.width) bytes extends past the end of "
                            + "'\(object.sectionName(section))' (\(hex(sectionSize)) bytes)"))
                      continue
                    }
                    unsafe (fixups.baseAddress! + count).initialize(to: fixup)
                    count += 1
                    let needsScan =
                      unsafe fixup.kind.usesGOTSlot || fixup.kind.isNarrowPointer
                      || fixup.kind.isThreadLocal
                      || (global >= 0
                        ? special[Int(global)]
                        : table.hasIFunc[o]
                          && object.symbolType(Int(symbol)) == SymbolType.gnuIFunc)
                    if needsScan { scanned.append((count - 1, o, section)) }
                  }
                }
                runs.append(
                  FixupRun(object: Int32(o), section: Int32(section), fixups: first..<count))
              }
            }
          }
        }
      }
    }
    plan.runs = runs
    plan.counts = counts
    // What the fixups that need something need, in their order (GOT slots are numbered by
    // first reference).
    for (k, o, section) in scanned {
      plan.scan(plan.fixups[k], o, section, table, isExternal, isIFunc, &copyCandidate)
    }
    plan.relocationCount = plan.counts.reduce(0, +)
    try problems.report(errors)
    // A low module cannot reach the host's read-only objects: it gets copies of them.
    plan.copyCandidates = copyCandidate.indices.filter { copyCandidate[$0] }
    if plan.needsLow {
      for id in plan.copyCandidates where table.globals[id].address >= 1 << 31 {
        plan.hostCopies.append(id)
        plan.reachCount[id] = 0
      }
    } else {
      // The writable host data the module names PC-relatively fixes where it can go (a
      // default-PIE C++ program naming stdout, whose copy is lkmrun's, low): the read-only host
      // objects it also names that lie far from any of that data (libstdc++'s typeinfo and
      // vtables, high) get copies too, as ld's copy relocations give an executable.
      let fixed = table.globals.indices.filter { plan.reachCount[$0] > 0 && !copyCandidate[$0] }
      for id in plan.copyCandidates where plan.reachCount[id] > 0 {
        let a = table.globals[id].address
        let far = fixed.contains { f in
          let b = table.globals[f].address
          return (a > b ? a - b : b - a) > pcReach / 2
        }
        if far {
          plan.hostCopies.append(id)
          plan.reachCount[id] = 0
        }
      }
    }
    return plan
  }

  /// Whether local symbol `i` of object `o` lies in a section dropped with a COMDAT group kept
  /// from an earlier object: nil when it does not; an inner nil for a reference from
  /// `.eh_frame` (the discarded copy's FDE, whose field is left 0: libgcc's unwinder skips an
  /// FDE whose start is 0), an error for a reference from anywhere else (as ld's "defined in
  /// discarded section").
  static func discardedTarget(
    _ table: SymbolTable, _ o: Int, _ i: Int, _ section: Int, _ offset: UInt64, _ fixup: Fixup
  ) -> LinkError?? {
    let object = table.objects[o]
    guard case .section(let s) = object.symbolPlace(i), table.discarded[table.sectionBase[o] + s]
    else { return nil }
    if object.sectionType(section) == SectionType.x86_64Unwind
      || object.sectionName(section, equals: ".eh_frame")
    {
      return .some(nil)
    }
    return .some(
      LinkError(
        .undefinedSymbol,
        "\(table.site(o, section, offset)): \(fixup.type.abiName) against "
          + "'\(object.displayName(ofSymbol: i))', which is in section '\(object.sectionName(s))' "
          + "of a COMDAT group discarded for the copy of an earlier object"))
  }

  /// Why a relocation has no fixup: a type this linker refuses, or a field 4 GiB into its
  /// section.
  static func refusal(_ entry: Relocation, _ o: Int, _ section: Int, _ table: SymbolTable)
    -> LinkError
  {
    let object = table.objects[o]
    let site = table.site(o, section, entry.offset)
    if entry.offset > UInt64(UInt32.max) {
      return LinkError(
        .tooLarge,
        "\(site): a relocation 4 GiB or more into '\(object.sectionName(section))' makes the "
          + "module too large")
    }
    let symbol = object.displayName(ofSymbol: Int(entry.symbolIndex))
    let what =
      X86_64Relocation(rawValue: entry.type).map { "\($0.abiName) \($0.refusal)" }
      ?? "\(X86_64Relocation.name(of: entry.type)) is not supported"
    return LinkError(.unsupportedRelocation, "\(site): \(what) (against '\(symbol)')")
  }

  /// What one fixup needs: a GOT slot, a stub, a placement constraint.
  @inline(__always)
  mutating func scan(
    _ fixup: Fixup, _ o: Int, _ section: Int, _ table: SymbolTable, _ isExternal: [Bool],
    _ isIFunc: [Bool], _ copyCandidate: inout [Bool]
  ) {
    let ref = fixup.target(in: o)
    if fixup.kind.usesGOTSlot { allocateSlot(ref) }
    if fixup.kind.isThreadLocal {
      usesThreadLocal = true
      if let model = ThreadLocalEntry.Model(fixup.type) {
        let entry = ThreadLocalEntry(
          model: model, target: model == .localDynamic ? .local(object: -1, index: 0) : ref)
        if threadLocalOffsets[entry] == nil {
          threadLocalOffsets[entry] = threadLocalAreaSize
          threadLocalEntries.append((entry, threadLocalAreaSize))
          threadLocalAreaSize += model.size
        }
      }
      return
    }
    let id: Int
    let external: Bool
    let ifunc: Bool
    if fixup.isGlobal {
      id = Int(fixup.symbol)
      external = isExternal[id]
      ifunc = isIFunc[id]
    } else {
      id = -1
      external = false
      ifunc = table.objects[o].symbolType(Int(fixup.symbol)) == SymbolType.gnuIFunc
    }
    switch fixup.kind {
    case .branchOrDelta32 where fixup.type == .plt32, .branchGotRelative64:
      if external || ifunc {
        needStub(ref, absolute32: false)
        if external { callCount[id] += 1 }
      }
    case .gotOffset64 where fixup.type == .gotplt64:
      if external || ifunc {
        needStub(ref, absolute32: false)
        if external { callCount[id] += 1 }
      }
    case .branchOrDelta32, .delta16, .delta8:
      if ifunc {
        needStub(ref, absolute32: false)
      } else if external {
        let g = table.globals[id]
        if fixup.type == .pc32 && g.isFunction && isBranch(table.objects[o], section, fixup.offset)
        {
          needStub(ref, absolute32: false)
          callCount[id] += 1
        } else if let e = table.provided(id) {
          reachCount[id] += 1
          if e.isReadOnly && (e.size ?? 0) > 0 { copyCandidate[id] = true }
        }
      }
    case .pointer32, .pointer32Signed, .pointer16, .pointer8:
      if ifunc {
        needStub(ref, absolute32: true)
        needsLow = true
      } else if external {
        let g = table.globals[id]
        if g.isFunction {
          needStub(ref, absolute32: true)
          needsLow = true
        } else if let e = table.provided(id), e.isReadOnly, (e.size ?? 0) > 0 {
          copyCandidate[id] = true
        }
      } else if !table.isAbsolute(ref) {
        if !needsLow {
          lowReason = "\(fixup.type.abiName) at \(table.site(o, section, fixup.offset))"
        }
        needsLow = true
      }
    default: break
    }
  }

  /// Whether the instruction before a 32-bit PC-relative field is a direct call or jump
  /// (`e8`, `e9`, `0f 8x`), so that the field may point at a stub.
  func isBranch(_ object: ObjectFile, _ section: Int, _ offset: UInt64) -> Bool {
    guard offset >= 1, let op = object.byte(ofSection: section, at: offset - 1) else {
      return false
    }
    if op == 0xe8 || op == 0xe9 { return true }
    return offset >= 2 && object.byte(ofSection: section, at: offset - 2) == 0x0f
      && op & 0xf0 == 0x80
  }

  mutating func allocateSlot(_ ref: SymbolRef) {
    if case .global(let id) = ref {
      guard globalSlot[Int(id)] < 0 else { return }
      globalSlot[Int(id)] = Int32(slotTargets.count)
    } else {
      guard localSlots[ref] == nil else { return }
      localSlots[ref] = slotTargets.count
    }
    slotTargets.append(ref)
  }

  /// Marks `ref` as a stub candidate: for calls (PC-relative) or for a 32-bit absolute
  /// address.
  mutating func needStub(_ ref: SymbolRef, absolute32: Bool) {
    let ordinal: Int
    if let known = stubOrdinal(of: ref) {
      ordinal = known
    } else {
      ordinal = stubs.count
      stubs.append(StubCandidate(target: ref))
      if case .global(let id) = ref {
        globalStub[Int(id)] = Int32(ordinal)
      } else {
        localStubs[ref] = ordinal
      }
    }
    if absolute32 { stubs[ordinal].absolute32 = true } else { stubs[ordinal].pcRelative = true }
  }
}
