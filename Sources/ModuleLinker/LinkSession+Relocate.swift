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
      let target = ref.object < 0 ? globals[Int(ref.index)].address : addresses[Int(ref.object)][Int(ref.index)]
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
      if need.absolute32 && !ifunc && ref.object < 0 { canonical[Int(ref.index)] = stubAddress }
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
        let target = ref.object < 0 ? globals[Int(ref.index)].address : addresses[Int(ref.object)][Int(ref.index)]
        ifuncSlots.append((slot, target, ref))
        continue
      }
      let target =
        ref.object < 0
        ? (canonical[Int(ref.index)] ?? globals[Int(ref.index)].address)
        : addresses[Int(ref.object)][Int(ref.index)]
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
    for id in missing { globalMissing[id] = true }
    var localStubs: [SymbolRef: UInt64] = [:]
    for (ref, address) in stubs {
      if ref.object < 0 { globalStub[Int(ref.index)] = address } else { localStubs[ref] = address }
    }
    for (ref, slot) in gotSlots where ref.object < 0 { globalSlot[Int(ref.index)] = slot }
    for id in globals.indices { globalIFunc[id] = globals[id].isIFunc && globals[id].kind != .undefined }
    var errors: [LinkError] = []
    var deferred: [(offset: Int, resolver: UInt64, addend: Int64)] = []
    for (o, object) in objects.enumerated() {
      let symbolAddresses = addresses[o]
      let ids = objectGlobalIDs[o]
      let symbols = object.symbols
      for rs in object.relocationSections {
        let sectionOffset = sectionOffsets[o][rs.target]
        guard sectionOffset >= 0 else { continue }
        let sectionAddress = base + UInt64(sectionOffset)
        for entry in rs.entries {
          let index = Int(entry.symbolIndex)
          let field = sectionOffset + Int(entry.offset)
          let p = sectionAddress + entry.offset
          let s = symbolAddresses[index]
          let a = UInt64(bitPattern: entry.addend)
          let g = Int(ids[index])
          // A check goes on past undefined symbols: their fields stay as they are.
          if g >= 0 && globalMissing[g] { continue }
          @inline(__always) func stub() -> UInt64 {
            g >= 0 ? globalStub[g] : (localStubs.isEmpty ? 0 : localStubs[SymbolRef(object: Int32(o), index: entry.symbolIndex)] ?? 0)
          }
          @inline(__always) func slot() -> Int {
            g >= 0 ? globalSlot[g] : gotSlots[SymbolRef(object: Int32(o), index: entry.symbolIndex)]!
          }
          @inline(__always) func ifunc() -> Bool {
            g >= 0 ? globalIFunc[g] : symbols[index].type == SymbolType.gnuIFunc
          }
          // The unsupported types were refused by the scan.
          switch entry.type {
          case X86_64Relocation.none.rawValue:
            break
          case X86_64Relocation.direct64.rawValue:
            if ifunc() {
              deferred.append((field, s, entry.addend))
            } else {
              image.storeLittleEndian(s &+ a, at: field)
            }
          case X86_64Relocation.pc64.rawValue:
            image.storeLittleEndian(s &+ a &- p, at: field)
          case X86_64Relocation.pc32.rawValue, X86_64Relocation.plt32.rawValue:
            var value = Int64(bitPattern: s &+ a &- p)
            // Through the stub when there is one and the target is out of reach (or an IFUNC).
            if Int32(exactly: value) == nil || s == 0 || ifunc() {
              let l = stub()
              if l != 0 { value = Int64(bitPattern: l &+ a &- p) }
            }
            guard let field32 = Int32(exactly: value) else {
              errors.append(overflow(X86_64Relocation(rawValue: entry.type)!, o, rs.target, entry, s, value))
              continue
            }
            image.storeLittleEndian(field32, at: field)
          case X86_64Relocation.gotpcrel.rawValue, X86_64Relocation.gotpcrelx.rawValue,
            X86_64Relocation.rexGotpcrelx.rawValue:
            let value = Int64(bitPattern: gotBase &+ UInt64(slot() * 8) &+ a &- p)
            guard let v = Int32(exactly: value) else {
              errors.append(overflow(X86_64Relocation(rawValue: entry.type)!, o, rs.target, entry, gotBase &+ UInt64(slot() * 8), value))
              continue
            }
            image.storeLittleEndian(v, at: field)
          default:
            let type = X86_64Relocation(rawValue: entry.type)!
            switch type {
            case .pc16, .pc8:
              let value = Int64(bitPattern: s &+ a &- p)
              if type == .pc16, let v = Int16(exactly: value) {
                image.storeLittleEndian(v, at: field)
              } else if type == .pc8, let v = Int8(exactly: value) {
                image.storeLittleEndian(v, at: field)
              } else {
                errors.append(overflow(type, o, rs.target, entry, s, value))
              }
            case .direct32, .direct32S, .direct16, .direct8:
              let l = stub()
              let value = (l != 0 ? l : s) &+ a
              let signed = Int64(bitPattern: value)
              switch type {
              case .direct32:
                guard let v = UInt32(exactly: value) else {
                  errors.append(overflow(type, o, rs.target, entry, value, signed))
                  continue
                }
                image.storeLittleEndian(v, at: field)
              case .direct32S:
                guard let v = Int32(exactly: signed) else {
                  errors.append(overflow(type, o, rs.target, entry, value, signed))
                  continue
                }
                image.storeLittleEndian(v, at: field)
              case .direct16:
                guard signed >= -0x8000 && signed <= 0xffff else {
                  errors.append(overflow(type, o, rs.target, entry, value, signed))
                  continue
                }
                image.storeLittleEndian(UInt16(truncatingIfNeeded: value), at: field)
              default:
                guard signed >= -0x80 && signed <= 0xff else {
                  errors.append(overflow(type, o, rs.target, entry, value, signed))
                  continue
                }
                image.storeLittleEndian(UInt8(truncatingIfNeeded: value), at: field)
              }
            case .gotpcrel64:
              image.storeLittleEndian(gotBase &+ UInt64(slot() * 8) &+ a &- p, at: field)
            case .got32:
              let value = Int64(slot() * 8) &+ entry.addend
              guard let v = Int32(exactly: value) else {
                errors.append(overflow(type, o, rs.target, entry, UInt64(slot() * 8), value))
                continue
              }
              image.storeLittleEndian(v, at: field)
            case .got64, .gotplt64:
              image.storeLittleEndian(UInt64(slot() * 8) &+ a, at: field)
            case .gotoff64:
              image.storeLittleEndian(s &+ a &- gotBase, at: field)
            case .gotpc32:
              let value = Int64(bitPattern: gotBase &+ a &- p)
              guard let v = Int32(exactly: value) else {
                errors.append(overflow(type, o, rs.target, entry, gotBase, value))
                continue
              }
              image.storeLittleEndian(v, at: field)
            case .gotpc64:
              image.storeLittleEndian(gotBase &+ a &- p, at: field)
            case .pltoff64:
              let l = stub()
              image.storeLittleEndian((l != 0 ? l : s) &+ a &- gotBase, at: field)
            case .size32, .size64:
              let z = symbolSize(o, entry.symbolIndex)
              let value = z &+ a
              if type == .size64 {
                image.storeLittleEndian(value, at: field)
              } else if let v = UInt32(exactly: value) {
                image.storeLittleEndian(v, at: field)
              } else {
                errors.append(overflow(type, o, rs.target, entry, value, Int64(bitPattern: value)))
              }
            default:
              preconditionFailure("unsupported relocation passed the scan")
            }
          }
        }
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
      entryAddress = options.entry.flatMap { globalIndex[$0] }.map { globals[$0].address }
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
  func overflow(
    _ type: X86_64Relocation, _ o: Int, _ section: Int, _ entry: Relocation, _ target: UInt64,
    _ value: Int64
  ) -> LinkError {
    let ref = reference(o, entry.symbolIndex)
    let symbol = name(of: ref)
    let place = site(o, section, entry.offset)
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
