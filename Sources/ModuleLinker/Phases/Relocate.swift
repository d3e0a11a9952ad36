import ELFObject
import LKMBase

// Phase 5 of a link: layout and an address → a relocated image. Final addresses, section
// contents, thunks, stubs (only those out of reach), GOT slots, then every fixup applied. What
// needs code to run (IFUNC resolvers) or the host's memory (copies of host objects) is left to
// the load step; a check never runs it.

/// Phase 5's value: the addresses of a relocated image (the image itself is written in place).
struct RelocatedImage {
  var base: UInt64
  var gotBase: UInt64
  var dsoHandle: UInt64
  /// Per global: its address (a provider's, the module's, a thunk's, a copy's).
  var globalAddress: [UInt64]
  /// Per symbol (flat): the address the module's code uses for it (a host function reached
  /// through a low stub has the stub's).
  var symbolAddress: [UInt64]
  /// The stubs written: target and address.
  var stubs: [(target: SymbolRef, address: UInt64)] = []
  /// GOT slots to fill with an IFUNC resolver's result once text is executable.
  var ifuncSlots: [(slot: Int, resolver: UInt64)] = []
  /// 64-bit fields to fill with a resolver's result plus an addend.
  var deferred: [(offset: Int, resolver: UInt64, addend: Int64)] = []
  /// IFUNCs whose address is their stub (a 32-bit absolute reference needs one): every
  /// reference to the address uses it, as ld's canonical PLT entry, so that pointers compare
  /// equal.
  var canonicalIFuncs: [SymbolRef: UInt64] = [:]
  var gotCount = 0
}

extension RelocatedImage {
  /// Phase 5: writes the module into `image`, whose first byte will be at `base` (the image's
  /// own address for a load, a planned one for a check), and applies every fixup.
  ///
  /// - Throws: every field that does not fit, through `problems`.
  static func relocate(
    _ image: borrowing MappedImage, base: UInt64, _ table: SymbolTable, _ plan: FixupPlan,
    _ layout: Layout, calls: CallBinding, threadLocalBlock: Int64? = nil,
    problems: inout Problems
  ) throws(LinkError) -> RelocatedImage {
    let gotBase = base + UInt64(layout.gotArea)
    let dsoHandle = base + UInt64(layout.dsoHandleOffset)
    var result = RelocatedImage(
      base: base, gotBase: gotBase, dsoHandle: dsoHandle,
      globalAddress: [UInt64](repeating: 0, count: table.globals.count), symbolAddress: [])

    // Global addresses.
    for (id, g) in table.globals.enumerated() {
      switch g.kind {
      case .strong, .weak:
        if g.section < 0 {
          result.globalAddress[id] = g.value  // absolute
        } else if layout.sectionOffset[Int(g.section)] >= 0 {
          result.globalAddress[id] = base &+ UInt64(layout.sectionOffset[Int(g.section)]) &+ g.value
        }
      case .common:
        result.globalAddress[id] = base + UInt64(layout.commonOffsets[id]!)
      case .undefined:
        switch g.linkerDefined {
        case .gotBase: result.globalAddress[id] = gotBase
        case .dsoHandle: result.globalAddress[id] = dsoHandle
        default: result.globalAddress[id] = g.address  // a provider's; 0 for nothing
        }
      }
    }
    // Copies of read-only host objects (their bytes are copied by the load step).
    for (k, id) in plan.hostCopies.enumerated() {
      result.globalAddress[id] = base + UInt64(layout.hostCopyOffsets[k])
    }
    // Thunks for libc_nonshared.a's functions.
    for (k, thunk) in table.thunks.enumerated() {
      let offset = layout.thunkArea + k * 16
      let address = base + UInt64(offset)
      let slot = layout.thunkSlot(k, plan)
      let (code, handleField, slotField) = thunk.kind.code
      unsafe code.withUnsafeBytes { unsafe image.copy($0, to: offset) }
      let handleDelta = Int64(bitPattern: dsoHandle &- (address + UInt64(handleField) + 4))
      let slotDelta = Int64(
        bitPattern: gotBase + UInt64(slot * 8) &- (address + UInt64(slotField) + 4))
      image.storeLittleEndian(Int32(truncatingIfNeeded: handleDelta), at: offset + handleField)
      image.storeLittleEndian(Int32(truncatingIfNeeded: slotDelta), at: offset + slotField)
      image.storeLittleEndian(
        table.externals[thunk.external].address, at: layout.gotArea + slot * 8)
      result.globalAddress[thunk.global] = address
    }
    // Every symbol's address (read in place from each symbol table).
    var symbolAddress = [UInt64](repeating: 0, count: table.globalOf.count)
    var hasIFunc = [Bool](repeating: false, count: table.objects.count)
    unsafe symbolAddress.withUnsafeMutableBufferPointer { addresses in
      unsafe table.globalOf.withUnsafeBufferPointer { globalOf in
        unsafe layout.sectionOffset.withUnsafeBufferPointer { sectionOffset in
          for (o, object) in table.objects.enumerated() {
            let symbols = table.symbolBase[o]
            let sections = table.sectionBase[o]
            unsafe object.withSymbolEntries { entries, count, extended in
              for i in 0..<count {
                let entry = unsafe entries + i * 24
                if unsafe entry.load(fromByteOffset: 4, as: UInt8.self) & 0xf == SymbolType.gnuIFunc
                {
                  hasIFunc[o] = true
                }
                let g = unsafe globalOf[symbols + i]
                if g >= 0 {
                  unsafe addresses[symbols + i] = result.globalAddress[Int(g)]
                  continue
                }
                var shndx = unsafe UInt32(entry.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
                let value = unsafe entry.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                switch shndx {
                case SectionIndex.undefined, SectionIndex.common: continue
                case SectionIndex.absolute:
                  unsafe addresses[symbols + i] = value
                  continue
                case SectionIndex.xindex:
                  shndx =
                    unsafe extended?.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self) ?? 0
                default: break
                }
                let offset = unsafe sectionOffset[sections + Int(shndx)]
                if offset >= 0 { unsafe addresses[symbols + i] = base &+ UInt64(offset) &+ value }
              }
            }
          }
        }
      }
    }

    // Section contents.
    for (o, object) in table.objects.enumerated() {
      let sections = table.sectionBase[o]
      for s in 0..<object.sectionCount {
        let offset = layout.sectionOffset[sections + s]
        if offset >= 0 { image.copy(section: s, of: object, to: offset) }
      }
    }

    func address(of ref: SymbolRef) -> UInt64 {
      switch ref {
      case .global(let id): result.globalAddress[Int(id)]
      case .local(let o, let i): symbolAddress[table.symbolBase[Int(o)] + Int(i)]
      }
    }
    // Stubs: only for targets that are out of reach (or IFUNCs), each with a slot of its own
    // holding the real target.
    let imageEnd = base + UInt64(layout.size)
    func reaches(_ target: UInt64) -> Bool {
      let a = target > base ? target - base : base - target
      let b = target > imageEnd ? target - imageEnd : imageEnd - target
      return a < pcReach && b < pcReach
    }
    var canonical: [Int: UInt64] = [:]  // global id → its low stub
    var globalStubAddress = [UInt64](repeating: 0, count: table.globals.count)
    var localStubs: [SymbolRef: UInt64] = [:]
    for (ordinal, candidate) in plan.stubs.enumerated() {
      let ref = candidate.target
      let target = address(of: ref)
      let ifunc = table.isIFunc(ref)
      let external = ref.globalID.map { table.isExternal(global: $0) } ?? false
      let needed =
        ifunc
        || (candidate.pcRelative && (!reaches(target) || (calls == .throughStubs && external)))
        || (candidate.absolute32 && target >= 1 << 31)
      guard needed else { continue }
      let slot = layout.stubSlot(ordinal, plan)
      let stubOffset = layout.stubArea + ordinal * 8
      let stubAddress = base + UInt64(stubOffset)
      writeStub(image, at: stubOffset, address: stubAddress, slot: gotBase + UInt64(slot * 8))
      if ifunc {
        result.ifuncSlots.append((slot, target))
      } else {
        image.storeLittleEndian(target, at: layout.gotArea + slot * 8)
      }
      result.stubs.append((ref, stubAddress))
      if case .global(let id) = ref {
        globalStubAddress[Int(id)] = stubAddress
      } else {
        localStubs[ref] = stubAddress
      }
      // A host function above 2 GiB reached through a low stub has the stub as its address
      // everywhere in the module (ld's canonical PLT entry), so that pointers to it compare
      // equal. (One within reach keeps its own: an undefined weak function stays 0.)
      if candidate.absolute32 && !ifunc && target >= 1 << 31, let id = ref.globalID {
        canonical[id] = stubAddress
      }
      if candidate.absolute32 && ifunc { result.canonicalIFuncs[ref] = stubAddress }
    }
    // S of each global as the module sees it.
    var globalS = result.globalAddress
    if !canonical.isEmpty {
      for (id, address) in canonical { globalS[id] = address }
      for i in symbolAddress.indices {
        let g = table.globalOf[i]
        if g >= 0, let address = canonical[Int(g)] { symbolAddress[i] = address }
      }
    }
    // GOT slots: the target's address (canonical); IFUNC slots are filled once resolvers ran.
    for (slot, ref) in plan.slotTargets.enumerated() {
      if table.isIFunc(ref) {
        if let stub = result.canonicalIFuncs[ref] {
          image.storeLittleEndian(stub, at: layout.gotArea + slot * 8)
        } else {
          result.ifuncSlots.append((slot, address(of: ref)))
        }
        continue
      }
      let target = ref.globalID.map { globalS[$0] } ?? address(of: ref)
      image.storeLittleEndian(target, at: layout.gotArea + slot * 8)
    }
    result.gotCount = plan.slotTargets.count + result.stubs.count
    image.storeLittleEndian(dsoHandle, at: layout.dsoHandleOffset)

    // Thread-local storage: every variable's offset from the thread pointer (`T`) and in its
    // module's block (`D`), and the GOT's TLS entries.
    let block = threadLocalBlock ?? 0
    func blockOffset(of ref: SymbolRef) -> Int64? {
      let section: Int
      let value: UInt64
      switch ref {
      case .global(let id):
        let g = table.globals[Int(id)]
        if g.linkerDefined == .tlsModuleBase { return 0 }
        guard g.kind == .strong || g.kind == .weak, g.section >= 0 else { return nil }
        (section, value) = (Int(g.section), g.value)
      case .local(let o, let i):
        guard o >= 0, case .section(let s) = table.objects[Int(o)].symbolPlace(Int(i)) else {
          return nil
        }
        section = table.sectionBase[Int(o)] + s
        value = table.objects[Int(o)].symbolValue(Int(i))
      }
      guard let offset = layout.threadLocalOffset[section] else { return nil }
      return Int64(offset) &+ Int64(bitPattern: value)
    }
    func threadPointerOffset(of ref: SymbolRef) -> Int64? {
      if let d = blockOffset(of: ref) { return block &+ d }
      if case .global(let id) = ref { return table.provided(Int(id))?.threadPointerOffset }
      return nil
    }
    var errors: [LinkError] = []
    var unusable: Set<SymbolRef> = []
    func notThreadLocal(_ ref: SymbolRef, _ site: String?) {
      guard unusable.insert(ref).inserted else { return }
      errors.append(
        LinkError(
          .unsupportedRelocation,
          "\(site.map { $0 + ": " } ?? "")'\(table.name(of: ref))' is used as a thread-local "
            + "variable, but it is not one (or is in a host library's dynamic TLS, which modules "
            + "cannot reach)"))
    }
    if !plan.threadLocalEntries.isEmpty {
      let (_, resolver) = StaticTLS.functions
      for (entry, offset) in plan.threadLocalEntries {
        let at = layout.threadLocalArea + offset
        let t: Int64
        if entry.model == .localDynamic {
          t = block
        } else if let known = threadPointerOffset(of: entry.target) {
          t = known
        } else {
          notThreadLocal(entry.target, nil)
          continue
        }
        switch entry.model {
        case .initialExec:
          image.storeLittleEndian(UInt64(bitPattern: t), at: at)
        case .generalDynamic, .localDynamic:
          image.storeLittleEndian(StaticTLS.staticModule, at: at)
          image.storeLittleEndian(UInt64(bitPattern: t), at: at + 8)
        case .descriptor:
          image.storeLittleEndian(resolver, at: at)
          image.storeLittleEndian(UInt64(bitPattern: t), at: at + 8)
        }
      }
    }

    // Every fixup. Per-global facts come from arrays indexed by global id, so the loop does no
    // hashing for globals; module-local stubs and slots (rare) use dictionaries.
    var globalIFunc = [Bool](repeating: false, count: table.globals.count)
    for (id, g) in table.globals.enumerated() { globalIFunc[id] = g.isIFunc && g.isDefined }
    let throughStubs = calls == .throughStubs
    let fixups = plan.fixups
    let missing = table.missing
    for run in plan.runs {
      let o = Int(run.object)
      let object = table.objects[o]
      let sectionOffset = layout.sectionOffset[table.sectionBase[o] + Int(run.section)]
      guard sectionOffset >= 0 else { continue }
      let symbols = table.symbolBase[o]
      let mayHaveIFunc = hasIFunc[o]
      for k in run.fixups {
        let fixup = fixups[k]
        let field = sectionOffset + Int(fixup.offset32)
        // The common kinds (calls and PC-relative data, 64-bit pointers: 99 % of SQLite's
        // fixups) to a target that is no IFUNC and not missing, with their operands read
        // directly; the rest, and a value out of range (for its message), go the general way.
        if fixup.kind == .branchOrDelta32 || fixup.kind == .pointer64 {
          var s: UInt64 = 0
          var stub: UInt64 = 0
          var plain = false
          var preferStub = false
          if fixup.isGlobal {
            let g = Int(fixup.symbol)
            if !missing[g] && !globalIFunc[g] {
              plain = true
              s = globalS[g]
              stub = globalStubAddress[g]
              preferStub = throughStubs && fixup.type == .plt32
            }
          } else if !mayHaveIFunc && localStubs.isEmpty {
            plain = true
            s = symbolAddress[symbols + Int(fixup.symbol)]
          }
          if plain {
            let a = UInt64(bitPattern: fixup.addend)
            if fixup.kind == .pointer64 {
              image.storeLittleEndian(s &+ a, at: field)
              continue
            }
            let value = Fixup.branchDelta(
              s: s, a: a, p: base &+ UInt64(field), stub: stub, preferStub: preferStub || s == 0)
            if let field32 = Int32(exactly: value) {
              image.storeLittleEndian(field32, at: field)
              continue
            }
          }
        }
        var operands = FixupOperands(
          s: 0, p: base &+ UInt64(field), got: gotBase, g: 0, stub: 0, z: 0, ifunc: false)
        let g = fixup.isGlobal ? Int(fixup.symbol) : -1
        if g >= 0 {
          // A check goes on past undefined symbols: their fields stay as they are.
          if missing[g] { continue }
          operands.s = globalS[g]
          operands.ifunc = globalIFunc[g]
          operands.throughStub = throughStubs && fixup.type == .plt32
        } else {
          operands.s = symbolAddress[symbols + Int(fixup.symbol)]
          operands.ifunc =
            mayHaveIFunc && object.symbolType(Int(fixup.symbol)) == SymbolType.gnuIFunc
        }
        switch fixup.kind {
        case .branchOrDelta32, .branchGotRelative64:
          operands.stub =
            g >= 0
            ? globalStubAddress[g]
            : (localStubs.isEmpty ? 0 : localStubs[fixup.target(in: o)] ?? 0)
        case .pointer32, .pointer32Signed, .pointer16, .pointer8:
          // An address: a stub stands for the target only when it is its canonical address (an
          // IFUNC's; a host function's above 2 GiB is already its S).
          if operands.ifunc {
            operands.stub =
              g >= 0
              ? globalStubAddress[g]
              : (localStubs.isEmpty ? 0 : localStubs[fixup.target(in: o)] ?? 0)
          }
        case .gotDelta32, .gotDelta64, .gotOffset32, .gotOffset64:
          let slot = g >= 0 ? Int(plan.globalSlot[g]) : plan.localSlots[fixup.target(in: o)]!
          operands.g = UInt64(slot * 8)
        case .size32, .size64:
          if g >= 0 {
            let global = table.globals[g]
            operands.z = global.kind == .common ? global.commonSize : global.size
          } else {
            operands.z = object.symbolSize(Int(fixup.symbol))
          }
        case .threadPointerOffset32, .threadPointerOffset64, .blockOffset32, .blockOffset64:
          let ref = fixup.target(in: o)
          let value =
            fixup.kind == .blockOffset32 || fixup.kind == .blockOffset64
            ? blockOffset(of: ref) : threadPointerOffset(of: ref)
          guard let value else {
            notThreadLocal(ref, table.site(o, Int(run.section), fixup.offset))
            continue
          }
          operands.s = UInt64(bitPattern: value)
        case .threadLocalGOTDelta32:
          let ref = fixup.target(in: o)
          let model = ThreadLocalEntry.Model(fixup.type)!
          let entry = ThreadLocalEntry(
            model: model, target: model == .localDynamic ? .local(object: -1, index: 0) : ref)
          operands.g = UInt64(
            layout.threadLocalArea - layout.gotArea + plan.threadLocalOffsets[entry]!)
        case .pointer64 where operands.ifunc:
          if !result.canonicalIFuncs.isEmpty,
            let stub = result.canonicalIFuncs[fixup.target(in: o)]
          {
            operands.s = stub
            break
          }
          // Filled with the resolver's result once the text is executable.
          result.deferred.append((field, operands.s, fixup.addend))
          continue
        default: break
        }
        if case .overflow(let value, let target) = fixup.apply(operands, to: image, at: field) {
          let cause = placementCause(fixup, table, plan, base: base, size: UInt64(layout.size))
          errors.append(overflow(fixup, o, Int(run.section), table, target, value, cause: cause))
        }
      }
    }
    try problems.report(errors)
    result.symbolAddress = symbolAddress
    return result
  }

  /// Writes `jmp *slot(%rip)` (`ff 25 disp32`, the displacement from the end of the 6-byte
  /// instruction) and 2 bytes of `nop` at `offset`.
  static func writeStub(
    _ image: borrowing MappedImage, at offset: Int, address: UInt64, slot: UInt64,
    changedOnly: Bool = false
  ) {
    let displacement = UInt32(truncatingIfNeeded: slot &- (address + 6))
    let bytes = UInt64(0x25ff) | UInt64(displacement) << 16 | UInt64(0x9066) << 48
    if changedOnly {
      image.storeLittleEndianIfChanged(bytes, at: offset)
    } else {
      image.storeLittleEndian(bytes, at: offset)
    }
  }

  /// For a PC-relative reference to host data the placement left out of reach: the host data
  /// the module also references PC-relatively that the placement did reach (the most referenced:
  /// what forced the module where it is, a data copy of lkmrun's for one), with its first site.
  static func placementCause(
    _ fixup: Fixup, _ table: SymbolTable, _ plan: FixupPlan, base: UInt64, size: UInt64
  ) -> String? {
    guard fixup.type == .pc32 || fixup.type == .plt32, fixup.isGlobal else { return nil }
    let target = Int(fixup.symbol)
    guard plan.reachCount[target] > 0 else { return nil }
    var best: Int?
    for id in table.globals.indices where id != target && plan.reachCount[id] > 0 {
      let a = table.globals[id].address
      let reached = a &+ pcReach >= base + size && a <= base &+ pcReach
      if reached && (best.map { plan.reachCount[id] > plan.reachCount[$0] } ?? true) { best = id }
    }
    guard let best else { return nil }
    var site: String?
    search: for run in plan.runs {
      for k in run.fixups where plan.fixups[k].isGlobal && Int(plan.fixups[k].symbol) == best {
        site = table.site(Int(run.object), Int(run.section), plan.fixups[k].offset)
        break search
      }
    }
    let count = Int(plan.reachCount[best])
    let more = count > 1 ? " (and \(count - 1) more place\(count > 2 ? "s" : ""))" : ""
    return "the module was placed within reach of '\(table.globals[best].name)' at "
      + "\(hex(table.globals[best].address)), which \(site ?? "the module") references "
      + "PC-relatively\(more)"
  }

  /// The message for a value that does not fit its field, with what to do about it (and, for a
  /// PC-relative reference out of reach, what placed the module where it is: `cause`).
  static func overflow(
    _ fixup: Fixup, _ o: Int, _ section: Int, _ table: SymbolTable, _ target: UInt64,
    _ value: Int64, cause: String? = nil
  ) -> LinkError {
    let type = fixup.type
    let symbol = table.name(of: fixup.target(in: o))
    let place = table.site(o, section, fixup.offset)
    let head = "\(place): \(type.abiName) against '\(symbol)'"
    let advice: String
    switch type {
    case .pc32, .plt32:
      advice =
        "'\(symbol)' at \(hex(target)) is \(hex(value.magnitude)) bytes away, beyond the ±2 GiB "
        + "a 32-bit PC-relative reference reaches\(cause.map { " (\($0))" } ?? ""); recompile with -fPIC (or "
        + "-mno-direct-extern-access) so that it is reached through the GOT"
    case .direct32, .direct32S:
      advice =
        "value \(hex(target)) does not fit \(type == .direct32 ? "an unsigned" : "a signed") 32-bit field; "
        + "the object was compiled with -fno-pic or -mcmodel=kernel: recompile with -fPIC"
    default:
      advice =
        "value \(value < 0 ? "-" + hex(value.magnitude) : hex(value)) does not fit its \(type.width * 8)-bit field"
    }
    var error = LinkError(.fieldOverflow, "\(head): \(advice)")
    error.symbol = symbol
    return error
  }
}
