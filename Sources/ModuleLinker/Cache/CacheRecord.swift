import ELFObject

// What a fresh link stores: after relocation and before the load step (no host copy made, no
// resolver run), the image's bytes and, from the plan, layout and result, everything that
// depends on where the image is or on the externals' addresses. Worked out after the fact, so
// that a link without a cache pays nothing for it.

/// The address class of each symbol a fresh link bound.
struct AddressClassifier {
  let table: SymbolTable
  let relocated: RelocatedImage
  let copies: [Int: Int]

  init(_ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout, _ relocated: RelocatedImage) {
    self.table = table
    self.relocated = relocated
    var copies: [Int: Int] = [:]
    for (k, id) in plan.hostCopies.enumerated() { copies[id] = layout.hostCopyOffsets[k] }
    self.copies = copies
  }

  func image(_ address: UInt64) -> AddressClass {
    address == 0 ? .absolute(0) : .image(address &- relocated.base)
  }

  func classOf(_ ref: SymbolRef) -> AddressClass {
    switch ref {
    case .global(let id):
      let id = Int(id)
      if let offset = copies[id] { return .image(UInt64(offset)) }
      if table.isExternal(global: id) { return .external(Int(table.globals[id].external)) }
      let g = table.globals[id]
      if g.kind == .strong || g.kind == .weak,
        table.objects[Int(g.object)].symbolPlace(Int(g.symbol)) == .absolute
      {
        return .absolute(relocated.globalAddress[id])
      }
      return image(relocated.globalAddress[id])
    case .local(let o, let i):
      let address = relocated.symbolAddress[table.symbolBase[Int(o)] + Int(i)]
      if i == 0 || table.objects[Int(o)].symbolPlace(Int(i)) == .absolute {
        return .absolute(address)
      }
      return image(address)
    }
  }

  func value(_ address: AddressClass) -> UInt64 {
    switch address {
    case .image(let offset): relocated.base &+ offset
    case .external(let k): table.externals[k].address
    case .absolute(let value): value
    }
  }
}

/// A cache entry being made: the metadata and its lazily read tables.
struct CacheRecord {
  var entry = CacheEntry()
  var tables: [ByteWriter] = []
  var fixups = ByteWriter()
  var fixupCount = 0

  /// The record of a fresh link whose image (relocated, not yet loaded) is `image`.
  init(
    _ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout, _ relocated: RelocatedImage,
    _ image: borrowing MappedImage, calls: CallBinding
  ) {
    let classifier = AddressClassifier(table, plan, layout, relocated)
    let base = relocated.base
    entry.size = layout.size
    entry.alignment = layout.alignment
    entry.text = layout.text
    entry.rodata = layout.rodata
    entry.data = layout.data
    entry.stubArea = layout.stubArea
    entry.gotArea = layout.gotArea
    entry.ehFrameArea = layout.ehFrameArea
    entry.dsoHandleOffset = layout.dsoHandleOffset
    entry.callsThroughStubs = calls == .throughStubs
    entry.needsLow = plan.needsLow
    entry.lowReason = plan.lowReason
    entry.objectCount = table.objects.count
    entry.relocationCount = plan.relocationCount
    entry.relocationsByType = plan.relocationCounts
    entry.origins = table.origins
    entry.runtimeFiles = table.runtimeFiles.compactMap { file in
      file.identity.map { (file.path, $0) }
    }
    let candidates = Set(plan.copyCandidates)
    let copied = Set(plan.hostCopies)
    entry.externals = table.externals.map { e in
      let g = Int(e.global)
      return CachedExternal(
        name: e.name, provider: e.provider, isFunction: e.symbol?.isFunction ?? false,
        size: e.symbol?.size, isReadOnly: e.symbol?.isReadOnly ?? false,
        reach: g >= 0 ? Int(plan.reachCount[g]) : 0, calls: g >= 0 ? Int(plan.callCount[g]) : 0,
        copyCandidate: g >= 0 && candidates.contains(g), copied: g >= 0 && copied.contains(g),
        isGlobal: g >= 0)
    }
    for (k, id) in plan.hostCopies.enumerated() {
      entry.copies.append(
        (
          Int(table.globals[id].external), layout.hostCopyOffsets[k],
          Int(table.provided(id)?.size ?? 0)
        ))
    }
    entry.stubs = plan.stubs.map { candidate in
      CachedStub(
        target: classifier.classOf(candidate.target), pcRelative: candidate.pcRelative,
        absolute32: candidate.absolute32, ifunc: table.isIFunc(candidate.target),
        name: table.name(of: candidate.target))
    }
    entry.slotCount = plan.slotTargets.count
    for (slot, ref) in plan.slotTargets.enumerated() {
      let target = classifier.classOf(ref)
      if let stub = relocated.canonicalIFuncs[ref] {
        entry.slots.append((slot, .image(stub &- base)))
      } else if table.isIFunc(ref) {
        entry.ifuncSlots.append((slot, Int(target.payload)))
      } else if case .absolute = target {
        continue  // the image holds it
      } else {
        entry.slots.append((slot, target))
      }
    }
    for (k, thunk) in table.thunks.enumerated() {
      entry.thunkSlots.append((layout.thunkSlot(k, plan), thunk.external))
    }
    entry.deferred = relocated.deferred.map { ($0.offset, Int($0.resolver &- base), $0.addend) }
    let inits = InitTable.entries(InitTable.find(table, layout))
    entry.initializers = inits.initializers
    entry.finalizers = inits.finalizers
    entry.zeroRuns = image.zeroRuns(minimumPages: CacheEntry.zeroRunPages)

    // The fixups whose value moves with the base or an external.
    var stubOffset: [SymbolRef: UInt64] = [:]
    for (ref, address) in relocated.stubs { stubOffset[ref] = address &- base }
    for run in plan.runs {
      let o = Int(run.object)
      let sectionOffset = layout.sectionOffset[table.sectionBase[o] + Int(run.section)]
      guard sectionOffset >= 0 else { continue }
      for k in run.fixups {
        let fixup = plan.fixups[k]
        let use = fixup.kind.targetUse
        guard use != .nothing else { continue }
        let ref = fixup.target(in: o)
        var target = classifier.classOf(ref)
        if fixup.kind == .pointer64 && table.isIFunc(ref) {
          // Deferred, unless the IFUNC's address is its stub.
          guard let stub = relocated.canonicalIFuncs[ref] else { continue }
          target = .image(stub &- base)
        }
        if calls == .throughStubs && fixup.type == .plt32, case .external = target,
          let stub = stubOffset[ref]
        {
          target = .image(stub)  // bound through its stub, which is in the image
        }
        switch (use, target) {
        case (.address, .absolute), (.offset, .image): continue
        case (.address, .image):
          // A low stub stands for an IFUNC target in 32-bit fields.
          if let stub = stubOffset[ref] { target = .image(stub) }
        default: break
        }
        fixups.fixup(
          CachedFixup(
            field: UInt32(sectionOffset + Int(fixup.offset32)), kind: fixup.kind,
            type: fixup.type, target: target, addend: fixup.addend))
        fixupCount += 1
      }
    }
    tables = Self.tables(table, plan, layout, relocated, classifier)
  }

  /// The tables a loaded module answers from, in ``CacheEntry/Table`` order.
  static func tables(
    _ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout, _ relocated: RelocatedImage,
    _ classifier: AddressClassifier
  ) -> [ByteWriter] {
    let base = relocated.base
    var exports = ByteWriter()
    let defined = table.globals.indices.filter { table.globals[$0].isDefined }
    exports.u32(UInt32(defined.count))
    for id in defined {
      exports.string(table.globals[id].name)
      exports.address(classifier.classOf(.global(Int32(id))))
    }
    let symbols = LinkedSymbols(table, plan, layout, relocated)
    var functions = ByteWriter()
    let list = symbols.functions()
    functions.u32(UInt32(list.count))
    for f in list {
      functions.u64(f.address &- base)
      functions.u64(f.size)
      functions.string(f.name)
    }
    var objects = ByteWriter()
    var count = 0
    var body = ByteWriter()
    for (o, object) in table.objects.enumerated() {
      let first = table.symbolBase[o]
      for i in 0..<object.symbolCount
      where object.symbolType(i) == SymbolType.object && relocated.symbolAddress[first + i] != 0 {
        body.string(object.symbolName(i))
        body.address(classifier.classOf(table.reference(o, i)))
        count += 1
      }
    }
    objects.u32(UInt32(count))
    objects.bytes += body.bytes
    var externals = ByteWriter()
    let referenced = table.globals.indices.filter {
      table.globals[$0].kind == .undefined && table.globals[$0].referenced
    }
    externals.u32(UInt32(referenced.count))
    for id in referenced {
      let g = table.globals[id]
      let provider: String
      if g.linkerDefined != nil {
        provider = "linker"
      } else if g.external >= 0, let name = table.externals[Int(g.external)].provider {
        provider = name
      } else {
        provider = "weak"
      }
      externals.string(g.name)
      externals.string(provider)
      externals.address(classifier.classOf(.global(Int32(id))))
    }
    var slotNames = ByteWriter()
    slotNames.u32(UInt32(plan.slotTargets.count))
    for ref in plan.slotTargets { slotNames.string(table.name(of: ref)) }
    var placements = ByteWriter()
    var placed = 0
    var entries = ByteWriter()
    for (o, object) in table.objects.enumerated() {
      let sections = table.sectionBase[o]
      for s in 0..<object.sectionCount where layout.sectionOffset[sections + s] >= 0 {
        entries.u32(UInt32(o))
        entries.u32(UInt32(s))
        entries.string(object.sectionName(s))
        entries.u64(UInt64(layout.sectionOffset[sections + s]))
        entries.u64(object.sectionSize(s))
        placed += 1
      }
    }
    placements.u32(UInt32(placed))
    placements.bytes += entries.bytes
    return [exports, functions, objects, externals, slotNames, placements]
  }
}
