import ELFObject

/// What a link measured, for `lkmrun -v` and benchmarks.
public struct LinkStatistics: Sendable {
  public struct Segment: Sendable {
    public var name: String
    public var address: UInt64
    public var size: Int
    public var protection: Protection
  }
  public var segments: [Segment] = []
  public var objectCount = 0
  public var stubCount = 0
  public var gotCount = 0
  /// Applied relocations by psABI name.
  public var relocationsByType: [String: Int] = [:]
  public var relocationCount = 0
  /// Nanoseconds per phase, in order.
  public var phases: [(name: String, nanoseconds: UInt64)] = []
}

/// One link in progress. Its steps are extensions in `LinkSession+*.swift`.
struct LinkSession {
  let options: LinkOptions
  var objects: [ObjectFile] = []
  var discardedSections: [[Bool]] = []
  var objectGlobalIDs: [[Int32]] = []
  var globals: [GlobalSymbol] = []
  /// Global names → global ids (a global's id is its name's index).
  var globalIndex = SymbolNameTable()
  /// Names the link made itself (the entry point), kept alive with it.
  var ownedNames: [OwnedName] = []
  var comdatSignatures: Set<String> = []
  var statistics = LinkStatistics()
  /// Check mode (modload -n): every problem is recorded, relocation goes to scratch memory at a
  /// planned address, nothing runs.
  var checking = false
  var problems: [LinkError] = []
  var warnings: [String] = []
  /// Globals nobody defines (check mode goes on without them).
  var missing: Set<Int> = []
  /// Where a check plans the module (the scratch image lives elsewhere).
  var virtualBase: UInt64?
  var plannedPlacements: [SectionPlacement] = []
  var entryAddress: UInt64?
  var declaredName: String?
  var clock = monotonicNanoseconds()

  /// Names the linker defines itself.
  let internalSymbols: Set<String> = [
    "_GLOBAL_OFFSET_TABLE_", "__dso_handle", "__cxa_atexit", "atexit", "at_quick_exit",
    "pthread_atfork",
  ]
  /// Thunks the linker writes for libc_nonshared.a's functions, in order: global id, kind, the
  /// address they jump to.
  var thunks: [(id: Int, kind: Thunk, target: UInt64)] = []
  var thunkArea = 0
  /// Stub slots follow the GOT slots: stub ordinal by reference.
  var stubOrdinals: [SymbolRef: Int] = [:]

  // Scan results.
  /// Every relocation to apply, translated.
  var fixups: [Fixup] = []
  /// Per global id, for the scan: lives outside the image; is an IFUNC of the module.
  var globalIsExternal: [Bool] = []
  var globalIsIFunc: [Bool] = []
  var gotSlots: [SymbolRef: Int] = [:]
  /// The targets GOT-type relocations name (the other slots serve stubs only).
  var gotReferenced: Set<SymbolRef> = []
  var stubCandidates: [SymbolRef: StubNeed] = [:]
  var mustReach: [(address: UInt64, ref: SymbolRef)] = []
  var callTargets: [UInt64: Int] = [:]
  var needsLow = false
  var lowReason: String?
  /// Read-only host objects a low module names with 32-bit references, copied into its
  /// read-only data (ld's copy relocation): global id → offset of the copy.
  var hostCopies: [(id: Int, offset: Int)] = []
  var copyCandidates: Set<Int> = []

  // Layout results (image offsets).
  var sectionOffsets: [[Int]] = []
  var commonOffsets: [Int: Int] = [:]
  var text = 0..<0
  var rodata = 0..<0
  var data = 0..<0
  var stubArea = 0
  var gotArea = 0
  var ehFrameArea: Int?
  var dsoHandleOffset = 0
  var imageSize = 0
  var imageAlignment = UInt64(pageSize)

  struct StubNeed {
    var pcRelative = false
    var absolute32 = false
  }

  init(options: LinkOptions) {
    self.options = options
  }

  mutating func phase(_ name: String) {
    let now = monotonicNanoseconds()
    statistics.phases.append((name, now - clock))
    clock = now
  }

  /// Records problems (check mode) or throws them (a load).
  mutating func report(_ errors: [LinkError]) throws(LinkError) {
    guard let error = LinkError.combine(errors) else { return }
    if checking {
      problems += error.all
    } else {
      throw error
    }
  }

  /// Links `inputs`; in check mode returns nil after recording every problem.
  mutating func run(_ inputs: [LinkInput]) throws(LinkError) -> LoadedModule? {
    var archives: [Archive] = []
    var symbolCount = 0
    for input in inputs {
      if case .object(let object) = input { symbolCount += object.symbols.count }
      if case .archive(let archive) = input { symbolCount += archive.symbolIndex.count * 2 }
    }
    globalIndex = SymbolNameTable(capacity: symbolCount)
    globals.reserveCapacity(symbolCount)
    for input in inputs {
      switch input {
      case .object(let object): try add(object)
      case .archive(let archive): archives.append(archive)
      }
    }
    if let entry = options.entry, globalID(entry) == nil {
      let owned = OwnedName(entry)
      ownedNames.append(owned)
      let (id, _) = globalIndex.insert(owned.name)
      var g = GlobalSymbol(symbolName: globalIndex.names[id])
      g.referenced = true
      g.onlyWeakReferences = false
      globals.append(g)
    }
    try pullArchiveMembers(archives)
    // An entry nothing defines is the caller's to report, not an undefined symbol.
    if let entry = options.entry, let id = globalID(entry), globals[id].kind == .undefined {
      globals[id].onlyWeakReferences = true
    }
    try resolveExternals()
    statistics.objectCount = objects.count
    phase("resolve")
    try scanRelocations()
    try layOut()
    phase("layout")
    let image = try mapImage()
    phase("map")
    return try finish(image)
  }

  /// The id of the global named `name`, if the module has one.
  func globalID(_ name: String) -> Int? {
    let owned = OwnedName(name)
    return globalIndex.index(of: owned.name)
  }

  /// The reference a relocation's symbol stands for.
  @inline(__always)
  func reference(_ o: Int, _ symbolIndex: UInt32) -> SymbolRef {
    let g = objectGlobalIDs[o][Int(symbolIndex)]
    return g >= 0 ? .global(g) : .local(object: Int32(o), index: symbolIndex)
  }

  /// Whether a global lives outside the image (a provider's, or an undefined weak).
  func isExternal(_ ref: SymbolRef) -> Bool {
    guard case .global(let id) = ref else { return false }
    let g = globals[Int(id)]
    guard g.kind == .undefined else { return false }
    switch g.linkerDefined {
    case nil, .cxaAtExit: return true
    default: return false
    }
  }

  func isIFunc(_ ref: SymbolRef) -> Bool {
    switch ref {
    case .global(let id): return globals[Int(id)].isIFunc && globals[Int(id)].kind != .undefined
    case .local(let o, let i): return objects[Int(o)].symbols[Int(i)].type == SymbolType.gnuIFunc
    }
  }

  func name(of ref: SymbolRef) -> String {
    switch ref {
    case .global(let id): globals[Int(id)].name
    case .local(let o, let i): objects[Int(o)].displayName(ofSymbol: Int(i))
    }
  }

  /// Whether the instruction before a 32-bit PC-relative field is a direct call or jump
  /// (`e8`, `e9`, `0f 8x`), so that the field may point at a stub.
  func isBranch(_ o: Int, _ section: Int, _ offset: UInt64) -> Bool {
    guard offset >= 1 else { return false }
    return objects[o].withContents(ofSection: section) { bytes in
      guard Int(offset) <= bytes.count else { return false }
      let op = bytes[Int(offset) - 1]
      if op == 0xe8 || op == 0xe9 { return true }
      return offset >= 2 && bytes[Int(offset) - 2] == 0x0f && op & 0xf0 == 0x80
    }
  }

  /// Translates every relocation into a ``Fixup`` (refusing unsupported types and fields past
  /// their section), then a counting pass over the fixups finds GOT slots, stub candidates and
  /// placement constraints.
  mutating func scanRelocations() throws(LinkError) {
    var errors: [LinkError] = []
    var counts = [Int](repeating: 0, count: 64)
    var total = 0
    for object in objects { for rs in object.relocationSections { total += rs.entries.count } }
    fixups.reserveCapacity(total)
    globalIsExternal = globals.indices.map { isExternal(.global(Int32($0))) }
    globalIsIFunc = globals.indices.map { isIFunc(.global(Int32($0))) }
    for (o, object) in objects.enumerated() {
      let ids = objectGlobalIDs[o]
      let discarded = discardedSections[o]
      for rs in object.relocationSections {
        let target = rs.target
        guard !discarded[target] else { continue }
        let sectionSize = object.sections[target].size
        for entry in rs.entries {
          let g = ids[Int(entry.symbolIndex)]
          let ref: SymbolRef = g >= 0 ? .global(g) : .local(object: Int32(o), index: entry.symbolIndex)
          guard let fixup = Fixup(translating: entry, site: o, section: target, target: ref) else {
            if entry.offset > UInt64(UInt32.max) {
              errors.append(
                LinkError(
                  .tooLarge,
                  "\(site(o, target, entry.offset)): a relocation 4 GiB or more into "
                    + "'\(object.sections[target].name)' makes the module too large"))
              continue
            }
            let symbol = object.displayName(ofSymbol: Int(entry.symbolIndex))
            let what =
              X86_64Relocation(rawValue: entry.type).map { "\($0.abiName) \($0.refusal)" }
              ?? "\(X86_64Relocation.name(of: entry.type)) is not supported"
            errors.append(
              LinkError(
                .unsupportedRelocation,
                "\(site(o, target, entry.offset)): \(what) (against '\(symbol)')"))
            continue
          }
          counts[Int(fixup.type.rawValue)] += 1
          if fixup.kind == .none { continue }
          guard UInt64(fixup.kind.width) <= sectionSize - entry.offset else {
            errors.append(
              LinkError(
                .malformedInput,
                "\(site(o, target, entry.offset)): \(fixup.type.abiName) field of \(fixup.kind.width) bytes "
                  + "extends past the end of '\(object.sections[target].name)' (\(hex(sectionSize)) bytes)"))
            continue
          }
          fixups.append(fixup)
          scan(fixup)
        }
      }
    }
    for (i, n) in counts.enumerated() where n > 0 {
      statistics.relocationsByType[X86_64Relocation(rawValue: UInt32(i))!.abiName] = n
      statistics.relocationCount += n
    }
    // Every stub jumps through a slot of its own, after the GOT slots.
    for (k, ref) in stubCandidates.keys.sorted(by: { $0.sortKey < $1.sortKey }).enumerated() {
      stubOrdinals[ref] = k
    }
    try report(errors)
    // A low module cannot reach the host's read-only objects: it gets copies of them.
    if needsLow {
      for id in copyCandidates.sorted() where globals[id].address >= 1 << 31 {
        hostCopies.append((id, 0))
      }
      let copied = Set(hostCopies.map(\.id))
      mustReach.removeAll { $0.ref.globalID.map { copied.contains($0) } ?? false }
    }
  }

  /// What one fixup needs: a GOT slot, a stub, a placement constraint.
  mutating func scan(_ fixup: Fixup) {
    let ref = fixup.target
    if fixup.kind.usesGOTSlot {
      allocateSlot(ref)
      gotReferenced.insert(ref)
    }
    let id: Int
    let external: Bool
    let ifunc: Bool
    switch ref {
    case .global(let g):
      id = Int(g)
      external = globalIsExternal[id]
      ifunc = globalIsIFunc[id]
    case .local(let o, let i):
      id = 0
      external = false
      ifunc = objects[Int(o)].symbols[Int(i)].type == SymbolType.gnuIFunc
    }
    switch fixup.kind {
    case .branchOrDelta32 where fixup.type == .plt32, .branchGotRelative64:
      if external || ifunc {
        stubCandidates[ref, default: StubNeed()].pcRelative = true
        if external && ref.globalID != nil { callTargets[globals[id].address, default: 0] += 1 }
      }
    case .gotOffset64 where fixup.type == .gotplt64:
      if external || ifunc {
        stubCandidates[ref, default: StubNeed()].pcRelative = true
        if external && ref.globalID != nil { callTargets[globals[id].address, default: 0] += 1 }
      }
    case .branchOrDelta32, .delta16, .delta8:
      if ifunc {
        stubCandidates[ref, default: StubNeed()].pcRelative = true
      } else if external {
        let g = globals[id]
        if fixup.type == .pc32 && g.isFunction
          && isBranch(Int(fixup.object), Int(fixup.section), fixup.offset)
        {
          stubCandidates[ref, default: StubNeed()].pcRelative = true
          callTargets[g.address, default: 0] += 1
        } else if let e = g.external {
          mustReach.append((g.address, ref))
          if e.isReadOnly && (e.size ?? 0) > 0 { copyCandidates.insert(id) }
        }
      }
    case .pointer32, .pointer32Signed, .pointer16, .pointer8:
      if ifunc {
        stubCandidates[ref, default: StubNeed()].absolute32 = true
        needsLow = true
      } else if external {
        if globals[id].isFunction {
          stubCandidates[ref, default: StubNeed()].absolute32 = true
          needsLow = true
        } else if let e = globals[id].external, e.isReadOnly, (e.size ?? 0) > 0 {
          copyCandidates.insert(id)
        }
      } else if !isAbsolute(ref) {
        if !needsLow {
          lowReason =
            "\(fixup.type.abiName) at \(site(Int(fixup.object), Int(fixup.section), fixup.offset))"
        }
        needsLow = true
      }
    default: break
    }
  }

  func isAbsolute(_ ref: SymbolRef) -> Bool {
    switch ref {
    case .global(let id):
      let g = globals[Int(id)]
      guard g.kind == .strong || g.kind == .weak else { return false }
      return objects[Int(g.object)].symbols[Int(g.symbol)].place == .absolute
    case .local(let o, let i):
      return objects[Int(o)].symbols[Int(i)].place == .absolute || i == 0
    }
  }

  mutating func allocateSlot(_ ref: SymbolRef) {
    if gotSlots[ref] == nil { gotSlots[ref] = gotSlots.count }
  }
}
