import ELFObject

extension LinkSession {
  /// Assigns final addresses, writes sections, stubs and GOT, applies every relocation,
  /// resolves IFUNCs, and protects the segments.
  mutating func finish(_ image: consuming MappedImage) throws(LinkError) -> LoadedModule {
    let base = image.baseAddress
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
        switch g.name {
        case "_GLOBAL_OFFSET_TABLE_": globals[id].address = gotBase
        case "__dso_handle": globals[id].address = dsoHandle
        case "__cxa_atexit" where g.external == nil:
          globals[id].address = AtExitRegistry.cxaAtExitAddress
          globals[id].isFunction = true
        default: break  // provider's address, or 0 for an undefined weak
        }
      }
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

    // Stubs: only for targets that are out of reach (or IFUNCs).
    let imageEnd = base + UInt64(imageSize)
    func reaches(_ target: UInt64) -> Bool {
      let a = target > base ? target - base : base - target
      let b = target > imageEnd ? target - imageEnd : imageEnd - target
      return a < pcReach && b < pcReach
    }
    var stubs: [SymbolRef: UInt64] = [:]
    var ifuncSlots: [(slot: Int, resolver: UInt64, ref: SymbolRef)] = []
    for (ref, need) in stubCandidates.sorted(by: { ($0.key.object, $0.key.index) < ($1.key.object, $1.key.index) }) {
      let target = ref.object < 0 ? globals[Int(ref.index)].address : addresses[Int(ref.object)][Int(ref.index)]
      let ifunc = isIFunc(ref)
      let needed = ifunc || (need.pcRelative && !reaches(target)) || (need.absolute32 && target >= 1 << 31)
      guard needed else { continue }
      let slot = gotSlots[ref]!
      let stubOffset = stubArea + stubs.count * 8
      let stubAddress = base + UInt64(stubOffset)
      // jmp *slot(%rip): ff 25 disp32, disp from the end of the 6-byte instruction.
      image.storeLittleEndian(UInt16(0x25ff), at: stubOffset)
      let displacement = Int64(bitPattern: gotBase + UInt64(slot * 8) &- (stubAddress + 6))
      image.storeLittleEndian(Int32(displacement), at: stubOffset + 2)
      image.storeLittleEndian(UInt16(0x9066), at: stubOffset + 6)  // 2-byte nop padding
      stubs[ref] = stubAddress
      statistics.stubCount += 1
    }
    // GOT slots: the target's address; IFUNC slots are filled once resolvers ran.
    var gotReferences = 0
    for (ref, slot) in gotSlots {
      if stubs[ref] == nil && stubCandidates[ref] == nil || gotReferenced.contains(ref) { gotReferences += 1 }
      let target = ref.object < 0 ? globals[Int(ref.index)].address : addresses[Int(ref.object)][Int(ref.index)]
      if isIFunc(ref) {
        ifuncSlots.append((slot, target, ref))
      } else {
        image.storeLittleEndian(target, at: gotArea + slot * 8)
      }
    }
    statistics.gotCount = gotReferences + stubs.count
    image.storeLittleEndian(dsoHandle, at: dsoHandleOffset)
    phase("write")

    // Relocations.
    var errors: [LinkError] = []
    var deferred: [(offset: Int, resolver: UInt64, addend: Int64)] = []
    for (o, object) in objects.enumerated() {
      let symbolAddresses = addresses[o]
      for rs in object.relocationSections {
        let sectionOffset = sectionOffsets[o][rs.target]
        guard sectionOffset >= 0 else { continue }
        let sectionAddress = base + UInt64(sectionOffset)
        for entry in rs.entries {
          let field = sectionOffset + Int(entry.offset)
          let p = sectionAddress + entry.offset
          let s = symbolAddresses[Int(entry.symbolIndex)]
          let a = UInt64(bitPattern: entry.addend)
          // The unsupported types were refused by the scan.
          let type = X86_64Relocation(rawValue: entry.type)!
          switch type {
          case .none:
            break
          case .direct64:
            let ref = reference(o, entry.symbolIndex)
            if isIFunc(ref) {
              deferred.append((field, s, entry.addend))
            } else {
              image.storeLittleEndian(s &+ a, at: field)
            }
          case .pc64:
            image.storeLittleEndian(s &+ a &- p, at: field)
          case .pc32, .plt32:
            var value = Int64(bitPattern: s &+ a &- p)
            if type == .plt32 || Int32(exactly: value) == nil || s == 0 {
              if let stub = stubs[reference(o, entry.symbolIndex)] {
                value = Int64(bitPattern: stub &+ a &- p)
              }
            }
            if stubs.isEmpty == false, isIFunc(reference(o, entry.symbolIndex)),
              let stub = stubs[reference(o, entry.symbolIndex)]
            {
              value = Int64(bitPattern: stub &+ a &- p)
            }
            guard let field32 = Int32(exactly: value) else {
              errors.append(overflow(type, o, rs.target, entry, s &+ a, value))
              continue
            }
            image.storeLittleEndian(field32, at: field)
          case .pc16, .pc8:
            let value = Int64(bitPattern: s &+ a &- p)
            if type == .pc16, let v = Int16(exactly: value) {
              image.storeLittleEndian(v, at: field)
            } else if type == .pc8, let v = Int8(exactly: value) {
              image.storeLittleEndian(v, at: field)
            } else {
              errors.append(overflow(type, o, rs.target, entry, s &+ a, value))
            }
          case .direct32, .direct32S, .direct16, .direct8:
            var target = s
            let ref = reference(o, entry.symbolIndex)
            if let stub = stubs[ref] { target = stub }
            let value = target &+ a
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
          case .gotpcrel, .gotpcrelx, .rexGotpcrelx:
            let slot = gotSlots[reference(o, entry.symbolIndex)]!
            let value = Int64(bitPattern: gotBase &+ UInt64(slot * 8) &+ a &- p)
            guard let v = Int32(exactly: value) else {
              errors.append(overflow(type, o, rs.target, entry, gotBase &+ UInt64(slot * 8), value))
              continue
            }
            image.storeLittleEndian(v, at: field)
          case .gotpcrel64:
            let slot = gotSlots[reference(o, entry.symbolIndex)]!
            image.storeLittleEndian(gotBase &+ UInt64(slot * 8) &+ a &- p, at: field)
          case .got32:
            let slot = gotSlots[reference(o, entry.symbolIndex)]!
            let value = Int64(slot * 8) &+ entry.addend
            guard let v = Int32(exactly: value) else {
              errors.append(overflow(type, o, rs.target, entry, UInt64(slot * 8), value))
              continue
            }
            image.storeLittleEndian(v, at: field)
          case .got64, .gotplt64:
            let slot = gotSlots[reference(o, entry.symbolIndex)]!
            image.storeLittleEndian(UInt64(slot * 8) &+ a, at: field)
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
            let l = stubs[reference(o, entry.symbolIndex)] ?? s
            image.storeLittleEndian(l &+ a &- gotBase, at: field)
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
    if let error = LinkError.combine(errors) { throw error }
    phase("relocate")

    // Protect text first, so that IFUNC resolvers can run; then fill what they give.
    do {
      try image.protect(0, rodata.lowerBound, .readExecute)
      if !ifuncSlots.isEmpty || !deferred.isEmpty {
        var resolved: [UInt64: UInt64] = [:]
        func resolve(_ resolver: UInt64) -> UInt64 {
          if let known = resolved[resolver] { return known }
          let value = ModuleCall.resolver(resolver)
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
        "value \(hex(target)) does not fit a \(type == .direct32 ? "unsigned" : "signed") 32-bit field; "
        + "the object was compiled with -fno-pic or -mcmodel=kernel: recompile with -fPIC"
    default:
      advice = "value \(value < 0 ? "-" + hex(value.magnitude) : hex(value)) does not fit its \(type.width * 8)-bit field"
    }
    return LinkError(.fieldOverflow, "\(head): \(advice)")
  }
}
