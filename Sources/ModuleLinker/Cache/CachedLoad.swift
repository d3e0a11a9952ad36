import ELFObject
import LKMBase

// A load that hits: the entry read, every external looked up again and checked, the base
// chosen as a link chooses it, the image mapped there, then stubs decided again and every
// dependent field patched, and the same load step as a fresh link's.

extension ImageCache {
  /// What a lookup came to.
  enum Lookup {
    case hit(LoadedModule)
    case miss(String)
  }

  /// Loads the entry `key` for inputs named `inputNames`, or says why not.
  func load(
    _ key: ContentHash, inputNames: [String], options: LinkOptions, clock: inout PhaseClock
  ) -> Lookup {
    let path = entryPath(key)
    guard let fd = CacheFiles.openForReading(path) else { return .miss("no entry") }
    defer { CacheFiles.close(fd) }
    let bytes: FileBytes
    do {
      bytes = try FileBytes(mapping: fd, name: path)
    } catch {
      return .miss("cannot read the entry: \(error.message)")
    }
    let entry: CacheEntry
    let imageOffset: Int
    do {
      (entry, imageOffset) = try Self.read(bytes, key)
    } catch {
      CacheFiles.remove(path)
      return .miss(error.reason)
    }
    guard entry.origins.allSatisfy({ $0.input < inputNames.count }) else {
      return .miss("the entry's objects do not match the inputs")
    }
    // The runtime archives it pulled members from: the same files, unchanged.
    for file in entry.runtimeFiles where FileIdentity.of(file.path) != file.identity {
      return .miss("'\(file.path)' changed since the entry was made")
    }
    // Every external again: the same provider, kind and size; only the address may differ.
    var addresses = [UInt64](repeating: 0, count: entry.externals.count)
    for (k, e) in entry.externals.enumerated() {
      var found: (provider: String, symbol: ProvidedSymbol)?
      if e.provider == "linker" && e.name == "__tls_get_addr" {
        // The linker's over its static TLS indexes (the key says a reservation was given).
        found = ("linker", ProvidedSymbol(address: StaticTLS.functions.getAddr, isFunction: true))
      } else if e.provider == "linker" {
        found = (
          "linker", ProvidedSymbol(address: AtExitRegistry.cxaAtExitAddress, isFunction: true)
        )
      } else {
        for provider in options.providers {
          if let symbol = provider.lookup(e.name) {
            found = (provider.providerName, symbol)
            break
          }
        }
      }
      guard found?.provider == e.provider, (found?.symbol.isFunction ?? false) == e.isFunction,
        found?.symbol.size == e.size, (found?.symbol.isReadOnly ?? false) == e.isReadOnly
      else {
        return .miss("'\(e.name)' is not what it was when the entry was made")
      }
      addresses[k] = found?.symbol.address ?? 0
      if e.copyCandidate && e.copied != (entry.needsLow && addresses[k] >= 1 << 31) {
        return .miss("'\(e.name)' moved across 2 GiB")
      }
    }
    clock.mark("cache lookup")

    // The base, as a link chooses it.
    var request = PlacementRequest(
      size: UInt64(entry.size), alignment: entry.alignment, needsLow: entry.needsLow,
      lowReason: entry.lowReason)
    var calls: [UInt64: Int] = [:]
    for (k, e) in entry.externals.enumerated() {
      if e.reach > 0 { request.mustReach.append((addresses[k], e.reach, e.name)) }
      if e.calls > 0 { calls[addresses[k], default: 0] += e.calls }
    }
    request.calls = calls.map { ($0.key, $0.value) }.sorted { $0.address < $1.address }
    let file = mapsFiles ? ImageFile(descriptor: fd, offset: imageOffset) : nil
    let image: MappedImage
    do {
      image = try request.map(in: options.regions, file: file)
    } catch {
      return .miss("cannot map the entry: \(error.message)")
    }
    do {
      if file == nil {
        // A noexec file system: the bytes are read into fresh memory instead.
        var at = 0
        for run in entry.zeroRuns + [entry.size..<entry.size] {
          if run.lowerBound > at {
            try image.read(at..<run.lowerBound, from: fd, at: imageOffset + at)
          }
          at = run.upperBound
        }
      } else {
        for run in entry.zeroRuns { try image.zeroPages(run.lowerBound, run.count) }
      }
    } catch {
      return .miss("cannot read the entry: \(error)")
    }
    clock.mark("map")
    let base = image.baseAddress
    let gotBase = base + UInt64(entry.gotArea)

    // Stubs, decided again: only where the target is out of reach from here.
    let imageEnd = base + UInt64(entry.size)
    func reaches(_ target: UInt64) -> Bool {
      let a = target > base ? target - base : base - target
      let b = target > imageEnd ? target - imageEnd : imageEnd - target
      return a < pcReach && b < pcReach
    }
    func value(_ address: AddressClass) -> UInt64 {
      switch address {
      case .image(let offset): base &+ offset
      case .external(let k): addresses[k]
      case .absolute(let v): v
      }
    }
    var externalStub = [UInt64](repeating: 0, count: entry.externals.count)
    var canonical = addresses
    var stubAddresses = [UInt64](repeating: 0, count: entry.stubs.count)
    var step = LoadStep(
      gotArea: entry.gotArea, rodata: entry.rodata, data: entry.data, base: base)
    for (k, stub) in entry.stubs.enumerated() {
      let target = value(stub.target)
      let external = if case .external = stub.target { true } else { false }
      let needed =
        stub.ifunc
        || (stub.pcRelative && (!reaches(target) || (entry.callsThroughStubs && external)))
        || (stub.absolute32 && target >= 1 << 31)
      let offset = entry.stubArea + k * 8
      let slot = entry.slotCount + k
      if needed {
        let address = base + UInt64(offset)
        RelocatedImage.writeStub(
          image, at: offset, address: address, slot: gotBase + UInt64(slot * 8), changedOnly: true)
        if stub.ifunc {
          step.ifuncSlots.append((slot, target))
        } else {
          image.storeLittleEndianIfChanged(target, at: entry.gotArea + slot * 8)
        }
        stubAddresses[k] = address
        if case .external(let e) = stub.target {
          externalStub[e] = address
          if stub.absolute32 && !stub.ifunc && target >= 1 << 31 { canonical[e] = address }
        }
      } else {
        image.storeLittleEndianIfChanged(UInt64(0), at: offset)
        image.storeLittleEndianIfChanged(UInt64(0), at: entry.gotArea + slot * 8)
      }
    }
    for (slot, target) in entry.slots {
      let address = if case .external(let e) = target { canonical[e] } else { value(target) }
      image.storeLittleEndianIfChanged(address, at: entry.gotArea + slot * 8)
    }
    for (slot, resolver) in entry.ifuncSlots {
      step.ifuncSlots.append((slot, base + UInt64(resolver)))
    }
    for (slot, external) in entry.thunkSlots {
      image.storeLittleEndianIfChanged(addresses[external], at: entry.gotArea + slot * 8)
    }
    image.storeLittleEndianIfChanged(
      base + UInt64(entry.dsoHandleOffset), at: entry.dsoHandleOffset)

    // Every dependent field.
    for k in 0..<(entry.fixups.count / CachedFixup.size) {
      let f: CachedFixup
      do { f = try entry.fixup(k, in: bytes) } catch { return .miss(error.reason) }
      var operands = FixupOperands(
        s: 0, p: base + UInt64(f.field), got: gotBase, g: 0, stub: 0, z: 0, ifunc: false)
      switch f.target {
      case .image(let offset): operands.s = base &+ offset
      case .absolute(let v): operands.s = v
      case .external(let e):
        operands.s = canonical[e]
        operands.stub = f.kind.targetUse == .address ? 0 : externalStub[e]
        operands.throughStub = entry.callsThroughStubs && f.type == .plt32
      }
      let fixup = Fixup(
        addend: f.addend, offset32: f.field, symbol: 0, kind: f.kind, type: f.type,
        isGlobal: false)
      if case .overflow = fixup.apply(operands, to: image, at: Int(f.field), changedOnly: true) {
        return .miss("a \(f.type.abiName) field does not fit at \(hex(base))")
      }
    }
    step.deferred = entry.deferred.map { ($0.offset, base + UInt64($0.resolver), $0.addend) }
    step.hostCopies = entry.copies.map { ($0.offset, addresses[$0.external], $0.size) }
    clock.mark("relocate")
    do {
      try step.run(image, callResolver: options.callResolver)
    } catch {
      return .miss("the load step failed: \(error.message)")
    }
    CacheFiles.markUsed(path, descriptor: fd)

    var statistics = LinkStatistics()
    statistics.objectCount = entry.objectCount
    statistics.relocationCount = entry.relocationCount
    statistics.relocationCounts = entry.relocationsByType
    statistics.segments = [
      .init(name: "text", address: base, size: entry.text.count, protection: .readExecute),
      .init(
        name: "rodata", address: base + UInt64(entry.rodata.lowerBound),
        size: entry.rodata.count, protection: .readOnly),
      .init(
        name: "data", address: base + UInt64(entry.data.lowerBound), size: entry.data.count,
        protection: .readWrite),
    ]
    let stubCount = stubAddresses.filter { $0 != 0 }.count
    statistics.stubCount = stubCount
    statistics.gotCount = entry.slotCount + stubCount
    statistics.cache = .hit
    clock.mark("protect")
    statistics.phases = clock.phases
    let tables = CachedSymbols(
      bytes: bytes, entry: entry, base: base, gotBase: gotBase, addresses: addresses,
      stubAddresses: stubAddresses, inputNames: inputNames)
    let result = ModuleResult(
      statistics: statistics, initializers: InitTable.read(entry.initializers, image),
      finalizers: InitTable.read(entry.finalizers, image), gotBase: gotBase,
      dsoHandle: base + UInt64(entry.dsoHandleOffset),
      ehFrame: entry.ehFrameArea.map { base + UInt64($0) }, tables: tables)
    return .hit(LoadedModule(image: image, result: result))
  }

  /// The entry's header and metadata, checked.
  static func read(_ bytes: FileBytes, _ key: ContentHash) throws(CacheFormatError)
    -> (CacheEntry, imageOffset: Int)
  {
    var r = ByteReader(bytes, 0..<bytes.count)
    guard try r.u64() == CacheEntry.magic, try r.u32() == 1 else {
      throw CacheFormatError(reason: "not an entry of this version")
    }
    _ = try r.u32()
    guard try r.u64() == key.high, try r.u64() == key.low else {
      throw CacheFormatError(reason: "the entry is for another key")
    }
    let imageOffset = try r.offset(within: bytes.count)
    let size = try r.offset(within: bytes.count - imageOffset)
    let metaSize = try r.offset(within: imageOffset - CacheEntry.headerSize)
    let hash = try r.u64()
    guard imageOffset % pageSize == 0, size == bytes.count - imageOffset else {
      throw CacheFormatError(reason: "damaged entry: image place")
    }
    let meta = CacheEntry.headerSize..<(CacheEntry.headerSize + metaSize)
    guard bytes.contentHash(meta).low == hash else {
      throw CacheFormatError(reason: "damaged entry: metadata checksum")
    }
    let entry = try CacheEntry(decoding: bytes, meta)
    guard entry.size == size else { throw CacheFormatError(reason: "damaged entry: image size") }
    return (entry, imageOffset)
  }
}

/// The tables of a module loaded from the cache, read from its entry on first use.
final class CachedSymbols: ModuleSymbolTables {
  let bytes: FileBytes
  let entry: CacheEntry
  let base: UInt64
  let gotBase: UInt64
  let addresses: [UInt64]
  let stubAddresses: [UInt64]
  let inputNames: [String]
  private var exportTable: [String: UInt64]?

  init(
    bytes: FileBytes, entry: CacheEntry, base: UInt64, gotBase: UInt64, addresses: [UInt64],
    stubAddresses: [UInt64], inputNames: [String]
  ) {
    self.bytes = bytes
    self.entry = entry
    self.base = base
    self.gotBase = gotBase
    self.addresses = addresses
    self.stubAddresses = stubAddresses
    self.inputNames = inputNames
  }

  func value(_ address: AddressClass) -> UInt64 {
    switch address {
    case .image(let offset): base &+ offset
    case .external(let k): addresses[k]
    case .absolute(let v): v
    }
  }

  /// Reads table `table` with `body`, which reads one row; a damaged table reads as empty (the
  /// metadata's checksum was checked, so only a bug gets here).
  func rows<Row>(
    _ table: CacheEntry.Table, _ body: (inout ByteReader) throws(CacheFormatError) -> Row
  )
    -> [Row]
  {
    var r = ByteReader(bytes, entry.tables[table.rawValue])
    var rows: [Row] = []
    do {
      for _ in 0..<(try r.count(4)) { rows.append(try body(&r)) }
    } catch {
      return []
    }
    return rows
  }

  var objectNames: [String] {
    entry.origins.map { origin in
      let input = inputNames[origin.input]
      return origin.member.map { "\(input)(\($0))" } ?? input
    }
  }

  func exports() -> [String: UInt64] {
    if let exportTable { return exportTable }
    let (externals, size) = (addresses.count, entry.size)
    var table: [String: UInt64] = [:]
    for (name, address) in rows(
      .exports,
      { (r: inout ByteReader) throws(CacheFormatError) in
        (try r.string(), try r.address(externals: externals, size: size))
      })
    {
      table[name] = value(address)
    }
    exportTable = table
    return table
  }

  /// One export, found by comparing the table's name bytes (lkmrun asks for its entry once:
  /// building every export's String and a dictionary of them cost a cached SQLite run about
  /// 2.5 M instructions, more than the rest of its load).
  func export(named name: String) -> UInt64? {
    if let exportTable { return exportTable[name] }
    let (externals, size) = (addresses.count, entry.size)
    var name = name
    return name.withUTF8 { wanted -> UInt64? in
      var r = ByteReader(bytes, entry.tables[CacheEntry.Table.exports.rawValue])
      var found: AddressClass?
      do {
        for _ in 0..<(try r.count(4)) {
          let match = unsafe try r.string(equals: wanted)
          let address = try r.address(externals: externals, size: size)
          if match { found = address }  // the last, as in exports()
        }
      } catch {
        return nil
      }
      return found.map(value)
    }
  }

  func functions() -> [(address: UInt64, size: UInt64, name: String)] {
    let size = entry.size
    return rows(.functions) { (r: inout ByteReader) throws(CacheFormatError) in
      let offset = try r.offset(within: size)
      return (base + UInt64(offset), try r.u64(), try r.string())
    }
  }

  func dataObject(named name: String) -> UInt64? {
    let (externals, size) = (addresses.count, entry.size)
    for (object, address) in rows(
      .dataObjects,
      { (r: inout ByteReader) throws(CacheFormatError) in
        (try r.string(), try r.address(externals: externals, size: size))
      }) where object == name
    {
      return value(address)
    }
    return nil
  }

  func placements() -> [SectionPlacement] {
    let names = objectNames
    let size = entry.size
    return rows(.placements) { (r: inout ByteReader) throws(CacheFormatError) in
      let o = Int(try r.u32())
      guard o < names.count else { throw r.fail("object") }
      let index = Int(try r.u32())
      let name = try r.string()
      let offset = try r.offset(within: size)
      return SectionPlacement(
        object: names[o], index: index, name: name, address: base + UInt64(offset),
        size: try r.u64())
    }
  }

  func externals() -> [String: (address: UInt64, provider: String)] {
    let (externals, size) = (addresses.count, entry.size)
    var table: [String: (UInt64, String)] = [:]
    for (name, provider, address) in rows(
      .externals,
      { (r: inout ByteReader) throws(CacheFormatError) in
        (try r.string(), try r.string(), try r.address(externals: externals, size: size))
      })
    {
      table[name] = (value(address), provider)
    }
    return table
  }

  func stubs() -> [String: UInt64] {
    var table: [String: UInt64] = [:]
    for (k, stub) in entry.stubs.enumerated() where stubAddresses[k] != 0 {
      if table[stub.name] == nil { table[stub.name] = stubAddresses[k] }
    }
    return table
  }

  func gotEntries() -> [String: UInt64] {
    var table: [String: UInt64] = [:]
    for (slot, name) in rows(
      .slotNames, { (r: inout ByteReader) throws(CacheFormatError) in try r.string() }
    )
    .enumerated() where table[name] == nil {
      table[name] = gotBase + UInt64(slot * 8)
    }
    return table
  }
}
