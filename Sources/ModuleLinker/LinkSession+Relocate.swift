import ELFObject

extension LinkSession {
  /// Assigns final addresses, writes sections, stubs and GOT, applies every relocation,
  /// resolves IFUNCs, and protects the segments.
  mutating func finish(_ image: consuming MappedImage) throws(LinkError) -> LoadedModule? {
    let base = virtualBase ?? image.baseAddress
    let gotBase = base + UInt64(gotArea)
    let dsoHandle = base + UInt64(dsoHandleOffset)

    // Global addresses.
    for id in globals.indices {
      let g = globals[id]
      switch g.kind {
      case .strong, .weak:
        let symbol = objects[Int(g.object)].symbols[Int(g.symbol)]
        switch symbol.place {
        case .section(let s):
          globals[id].address = base &+ UInt64(sectionOffsets[Int(g.object)][s]) &+ symbol.value
        case .absolute: globals[id].address = symbol.value
        default: break
        }
      case .common:
        globals[id].address = base + UInt64(commonOffsets[id]!)
      case .undefined:
        switch g.linkerDefined {
        case .gotBase: globals[id].address = gotBase
        case .dsoHandle: globals[id].address = dsoHandle
        default: break  // a provider's address, a thunk's (below), or 0 for an undefined weak
        }
      }
    }
    // Copies of read-only host objects (read through the host's pointer while it is mapped).
    for copy in hostCopies {
      let host = globals[copy.id].address
      let size = Int(globals[copy.id].external?.size ?? 0)
      // A check may plan against another process's symbols: nothing of the host is read.
      if !checking, let source = UnsafeRawPointer(bitPattern: UInt(host)), size > 0 {
        image.copy(UnsafeRawBufferPointer(start: source, count: size), to: copy.offset)
      }
      globals[copy.id].address = base + UInt64(copy.offset)
    }
    // Thunks for libc_nonshared.a's functions.
    let thunkSlotBase = gotSlots.count + stubCandidates.count
    for (k, thunk) in thunks.enumerated() {
      let offset = thunkArea + k * 16
      let address = base + UInt64(offset)
      let slot = thunkSlotBase + k
      let (code, handleField, slotField) = thunk.kind.code
      image.copy(code.withUnsafeBytes { $0 }, to: offset)
      let handleDelta = Int64(bitPattern: dsoHandle &- (address + UInt64(handleField) + 4))
      let slotDelta = Int64(bitPattern: gotBase + UInt64(slot * 8) &- (address + UInt64(slotField) + 4))
      image.storeLittleEndian(Int32(handleDelta), at: offset + handleField)
      image.storeLittleEndian(Int32(slotDelta), at: offset + slotField)
      image.storeLittleEndian(thunk.target, at: gotArea + slot * 8)
      globals[thunk.id].address = address
    }
    // Local addresses, per object.
    var addresses: [[UInt64]] = []
    addresses.reserveCapacity(objects.count)
    for (o, object) in objects.enumerated() {
      let ids = objectGlobalIDs[o]
      let offsets = sectionOffsets[o]
      var list = [UInt64](repeating: 0, count: object.symbols.count)
      for (i, symbol) in object.symbols.enumerated() {
        if ids[i] >= 0 {
          list[i] = globals[Int(ids[i])].address
          continue
        }
        switch symbol.place {
        case .section(let s):
          if offsets[s] >= 0 { list[i] = base &+ UInt64(offsets[s]) &+ symbol.value }
        case .absolute: list[i] = symbol.value
        default: break
        }
      }
      addresses.append(list)
    }

    // Section contents.
    for (o, object) in objects.enumerated() {
      for (s, offset) in sectionOffsets[o].enumerated() where offset >= 0 {
        object.withContents(ofSection: s) { image.copy($0, to: offset) }
      }
    }

    // Stubs: only for targets that are out of reach (or IFUNCs), each with a slot of its own
    // holding the real target.
    let imageEnd = base + UInt64(imageSize)
    func reaches(_ target: UInt64) -> Bool {
      let a = target > base ? target - base : base - target
      let b = target > imageEnd ? target - imageEnd : imageEnd - target
      return a < pcReach && b < pcReach
    }
    var stubs: [SymbolRef: UInt64] = [:]
    var ifuncSlots: [(slot: Int, resolver: UInt64, ref: SymbolRef)] = []
    var canonical: [Int: UInt64] = [:]
    for (ref, ordinal) in stubOrdinals.sorted(by: { $0.value < $1.value }) {
      let need = stubCandidates[ref]!
      let target = address(of: ref, addresses)
      let ifunc = isIFunc(ref)
      let needed = ifunc || (need.pcRelative && !reaches(target)) || (need.absolute32 && target >= 1 << 31)
      guard needed else { continue }
      let slot = gotSlots.count + ordinal
      let stubOffset = stubArea + ordinal * 8
      let stubAddress = base + UInt64(stubOffset)
      // jmp *slot(%rip): ff 25 disp32, disp from the end of the 6-byte instruction.
      image.storeLittleEndian(UInt16(0x25ff), at: stubOffset)
      let displacement = Int64(bitPattern: gotBase + UInt64(slot * 8) &- (stubAddress + 6))
      image.storeLittleEndian(Int32(displacement), at: stubOffset + 2)
      image.storeLittleEndian(UInt16(0x9066), at: stubOffset + 6)  // 2-byte nop padding
      if ifunc {
        ifuncSlots.append((slot, target, ref))
      } else {
        image.storeLittleEndian(target, at: gotArea + slot * 8)
      }
      stubs[ref] = stubAddress
      statistics.stubCount += 1
      // A host function reached through a low stub has the stub as its address everywhere in
      // the module (ld's canonical PLT entry), so that pointers to it compare equal.
      if need.absolute32 && !ifunc, let id = ref.globalID { canonical[id] = stubAddress }
    }
    if !canonical.isEmpty {
      for o in objects.indices {
        for (i, g) in objectGlobalIDs[o].enumerated() where g >= 0 {
          if let address = canonical[Int(g)] { addresses[o][i] = address }
        }
      }
    }
    // GOT slots: the target's address (canonical); IFUNC slots are filled once resolvers ran.
    var gotReferences = 0
    for (ref, slot) in gotSlots {
      gotReferences += 1
      if isIFunc(ref) {
        ifuncSlots.append((slot, address(of: ref, addresses), ref))
        continue
      }
      let target = ref.globalID.flatMap { canonical[$0] } ?? address(of: ref, addresses)
      image.storeLittleEndian(target, at: gotArea + slot * 8)
    }
    statistics.gotCount = gotReferences + stubs.count
    image.storeLittleEndian(dsoHandle, at: dsoHandleOffset)
    phase("write")

    // Relocations. Per-reference facts come from arrays indexed by global id, so the loop does
    // no hashing for globals; module-local stubs and slots (rare) use the dictionaries.
    var globalStub = [UInt64](repeating: 0, count: globals.count)
    var globalSlot = [Int](repeating: -1, count: globals.count)
    var globalIFunc = [Bool](repeating: false, count: globals.count)
    var globalMissing = [Bool](repeating: false, count: globals.count)
    // S of each global as the module sees it (a host function behind a low stub: the stub).
    var globalAddress = [UInt64](repeating: 0, count: globals.count)
    for id in globals.indices { globalAddress[id] = globals[id].address }
    for (id, address) in canonical { globalAddress[id] = address }
    for id in missing { globalMissing[id] = true }
    var localStubs: [SymbolRef: UInt64] = [:]
    for (ref, address) in stubs {
      if let id = ref.globalID { globalStub[id] = address } else { localStubs[ref] = address }
    }
    for (ref, slot) in gotSlots { if let id = ref.globalID { globalSlot[id] = slot } }
    for id in globals.indices { globalIFunc[id] = globals[id].isIFunc && globals[id].kind != .undefined }
    var errors: [LinkError] = []
    var deferred: [(offset: Int, resolver: UInt64, addend: Int64)] = []
    // Section addresses and symbol addresses per object, looked up once per object.
    var o = -1
    var symbolAddresses: [UInt64] = []
    var offsets: [Int] = []
    var symbols: [Symbol] = []
    for fixup in fixups {
      if Int(fixup.object) != o {
        o = Int(fixup.object)
        symbolAddresses = addresses[o]
        offsets = sectionOffsets[o]
        symbols = objects[o].symbols
      }
      let sectionOffset = offsets[Int(fixup.section)]
      guard sectionOffset >= 0 else { continue }
      let field = sectionOffset + Int(fixup.offset)
      var operands = FixupOperands(
        s: 0, p: base &+ UInt64(field), got: gotBase, g: 0, stub: 0, z: 0, ifunc: false)
      let g: Int
      switch fixup.target {
      case .global(let id):
        g = Int(id)
        // A check goes on past undefined symbols: their fields stay as they are.
        if globalMissing[g] { continue }
        operands.s = globalAddress[g]
        operands.ifunc = globalIFunc[g]
      case .local(_, let index):
        g = -1
        operands.s = symbolAddresses[Int(index)]
        operands.ifunc = symbols[Int(index)].type == SymbolType.gnuIFunc
      }
      switch fixup.kind {
      case .branchOrDelta32, .pointer32, .pointer32Signed, .pointer16, .pointer8,
        .branchGotRelative64:
        operands.stub = g >= 0 ? globalStub[g] : (localStubs.isEmpty ? 0 : localStubs[fixup.target] ?? 0)
      case .gotDelta32, .gotDelta64, .gotOffset32, .gotOffset64:
        operands.g = UInt64((g >= 0 ? globalSlot[g] : gotSlots[fixup.target]!) * 8)
      case .size32, .size64:
        if case .local(_, let index) = fixup.target {
          operands.z = symbolSize(o, index)
        } else {
          operands.z = globals[g].kind == .common ? globals[g].commonSize : globals[g].size
        }
      case .pointer64 where operands.ifunc:
        // Filled with the resolver's result once the text is executable.
        deferred.append((field, operands.s, fixup.addend))
        continue
      default: break
      }
      if case .overflow(let value, let target) = fixup.apply(operands, to: image, at: field) {
        errors.append(overflow(fixup, target, value))
      }
    }
    try report(errors)
    phase("relocate")
    if checking {
      for (o, object) in objects.enumerated() {
        for (s, offset) in sectionOffsets[o].enumerated() where offset >= 0 {
          plannedPlacements.append(
            SectionPlacement(
              object: object.name, index: s, name: object.sections[s].name,
              address: base + UInt64(offset), size: object.sections[s].size))
        }
      }
      statistics.segments = [
        .init(name: "text", address: base, size: text.count, protection: .readExecute),
        .init(name: "rodata", address: base + UInt64(rodata.lowerBound), size: rodata.count, protection: .readOnly),
        .init(name: "data", address: base + UInt64(data.lowerBound), size: data.count, protection: .readWrite),
      ]
      entryAddress = options.entry.flatMap { globalID($0) }.map { globals[$0].address }
      declaredName = readDeclaredName(image, base: base, addresses: addresses)
      return nil  // the scratch image is unmapped here
    }

    // Protect text first, so that IFUNC resolvers can run; then fill what they give.
    var resolverFailure: LinkError?
    do {
      try image.protect(0, rodata.lowerBound, .readExecute)
      if !ifuncSlots.isEmpty || !deferred.isEmpty {
        var resolved: [UInt64: UInt64] = [:]
        let call = options.callResolver
        func resolve(_ resolver: UInt64) -> UInt64 {
          if let known = resolved[resolver] { return known }
          var value: UInt64 = 0
          if let call {
            if let result = call(resolver) {
              value = result
            } else if resolverFailure == nil {
              resolverFailure = LinkError(
                .unsupportedFeature,
                "IFUNC resolver at module+\(hex(resolver &- base)) did not run or faulted")
            }
          } else {
            value = ModuleCall.resolver(resolver)
          }
          resolved[resolver] = value
          return value
        }
        for (slot, resolver, _) in ifuncSlots {
          image.storeLittleEndian(resolve(resolver), at: gotArea + slot * 8)
        }
        for (offset, resolver, addend) in deferred {
          image.storeLittleEndian(resolve(resolver) &+ UInt64(bitPattern: addend), at: offset)
        }
      }
      try image.protect(rodata.lowerBound, data.lowerBound - rodata.lowerBound, .readOnly)
    } catch {
      throw LinkError(.memory, "cannot protect the module: \(error)")
    }
    if let resolverFailure { throw resolverFailure }
    statistics.segments = [
      .init(name: "text", address: base, size: text.count, protection: .readExecute),
      .init(name: "rodata", address: base + UInt64(rodata.lowerBound), size: rodata.count, protection: .readOnly),
      .init(name: "data", address: base + UInt64(data.lowerBound), size: data.count, protection: .readWrite),
    ]
    phase("protect")
    return LoadedModule(
      image: image, session: self, addresses: addresses, dsoHandle: dsoHandle,
      ehFrame: ehFrameArea.map { base + UInt64($0) }, stubs: stubs)
  }

  /// The string `options.declaration`'s second field points at (an OpenBSD module's `_module`
  /// and its `lkm_name`), read from the relocated scratch image.
  func readDeclaredName(_ image: borrowing MappedImage, base: UInt64, addresses: [[UInt64]]) -> String? {
    guard let declaration = options.declaration else { return nil }
    for (o, object) in objects.enumerated() {
      for (i, symbol) in object.symbols.enumerated()
      where symbol.type == SymbolType.object && addresses[o][i] != 0 {
        guard object.symbolName(i) == declaration.symbol else { continue }
        let field = Int(addresses[o][i] &- base) + declaration.pointerOffset
        guard field >= 0, field + 8 <= imageSize else { return nil }
        let pointer = image.loadLittleEndian(UInt64.self, at: field)
        guard pointer >= base, pointer < base + UInt64(imageSize) else { return nil }
        var bytes: [UInt8] = []
        var offset = Int(pointer - base)
        while offset < imageSize, bytes.count < 64 {
          let b = image.loadLittleEndian(UInt8.self, at: offset)
          if b == 0 { return String(decoding: bytes, as: UTF8.self) }
          bytes.append(b)
          offset += 1
        }
        return nil
      }
    }
    return nil
  }

  func symbolSize(_ o: Int, _ index: UInt32) -> UInt64 {
    let g = objectGlobalIDs[o][Int(index)]
    if g >= 0 {
      let global = globals[Int(g)]
      if global.kind == .common { return global.commonSize }
      return global.size
    }
    return objects[o].symbols[Int(index)].size
  }

  /// The message for a value that does not fit its field, with what to do about it.
  func overflow(_ fixup: Fixup, _ target: UInt64, _ value: Int64) -> LinkError {
    let type = fixup.type
    let symbol = name(of: fixup.target)
    let place = site(Int(fixup.object), Int(fixup.section), fixup.offset)
    let head = "\(place): \(type.abiName) against '\(symbol)'"
    let advice: String
    switch type {
    case .pc32, .plt32:
      advice =
        "'\(symbol)' at \(hex(target)) is \(hex(value.magnitude)) bytes away, beyond the ±2 GiB "
        + "a 32-bit PC-relative reference reaches; recompile with -fPIC (or "
        + "-mno-direct-extern-access) so that it is reached through the GOT"
    case .direct32, .direct32S:
      advice =
        "value \(hex(target)) does not fit \(type == .direct32 ? "an unsigned" : "a signed") 32-bit field; "
        + "the object was compiled with -fno-pic or -mcmodel=kernel: recompile with -fPIC"
    default:
      advice = "value \(value < 0 ? "-" + hex(value.magnitude) : hex(value)) does not fit its \(type.width * 8)-bit field"
    }
    return LinkError(.fieldOverflow, "\(head): \(advice)")
  }
}

extension LinkSession {
  /// A reference's address: a global's, or a local symbol's from `addresses`.
  func address(of ref: SymbolRef, _ addresses: [[UInt64]]) -> UInt64 {
    switch ref {
    case .global(let id): globals[Int(id)].address
    case .local(let o, let i): addresses[Int(o)][Int(i)]
    }
  }
}
