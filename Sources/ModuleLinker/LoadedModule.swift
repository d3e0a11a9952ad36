import ELFObject

/// Where one input section was placed.
public struct SectionPlacement: Sendable {
  /// The object's name (`archive(member)` for a member).
  public var object: String
  /// The section's index in its object.
  public var index: Int
  public var name: String
  public var address: UInt64
  public var size: UInt64

  public init(object: String, index: Int, name: String, address: UInt64, size: UInt64) {
    self.object = object
    self.index = index
    self.name = name
    self.address = address
    self.size = size
  }
}

/// A linked module in this process's memory: relocated, protected, its `.eh_frame`
/// registered. Constructors run with ``runInitializers()``; ``unload()`` (or deinit) runs what
/// is needed and unmaps it.
public final class LoadedModule {
  let image: MappedImage
  /// The module's global definitions, by name (made on first use; ``address(ofExport:)``
  /// finds one without making the table).
  public private(set) lazy var exports: [String: UInt64] = {
    var exports: [String: UInt64] = [:]
    exports.reserveCapacity(session.globals.count)
    for g in session.globals where g.kind == .strong || g.kind == .weak || g.kind == .common {
      exports[g.name] = g.address
    }
    return exports
  }()

  /// The address of the module's global definition `name`, if it has one.
  public func address(ofExport name: String) -> UInt64? {
    guard let id = session.globalID(name) else { return nil }
    let g = session.globals[id]
    guard g.kind == .strong || g.kind == .weak || g.kind == .common else { return nil }
    return g.address
  }
  /// What the link measured.
  public private(set) var statistics: LinkStatistics
  /// Constructor addresses, in the order they run.
  public let initializers: [UInt64]
  /// Finalizer addresses, in the order they run.
  public let finalizers: [UInt64]
  /// The registered `.eh_frame`, if any.
  let ehFrame: UInt64?
  var ehFrameRegistered = false
  let dsoHandle: UInt64
  public private(set) var initialized = false
  public private(set) var finalized = false
  /// Names of the objects linked, in order (members as `archive(member)`).
  public let objectNames: [String]
  /// Where each allocated input section went: the object's name, the section's index and
  /// name, its load address and size. For checks against other linkers.
  public private(set) lazy var placements: [SectionPlacement] = {
    var placements: [SectionPlacement] = []
    for (o, object) in session.objects.enumerated() {
      for (s, offset) in session.sectionOffsets[o].enumerated() where offset >= 0 {
        placements.append(
          SectionPlacement(
            object: object.name, index: s, name: object.sections[s].name,
            address: baseAddress + UInt64(offset), size: object.sections[s].size))
      }
    }
    return placements
  }()
  /// The address each undefined global was bound to, and the provider that gave it (`host`,
  /// `linker` for `_GLOBAL_OFFSET_TABLE_`, `__dso_handle`, `__cxa_atexit` and the `atexit`
  /// thunks, `weak` for an undefined weak symbol left at 0).
  public private(set) lazy var externals: [String: (address: UInt64, provider: String)] = {
    var externals: [String: (UInt64, String)] = [:]
    for g in session.globals where g.kind == .undefined && g.referenced {
      let provider = g.linkerDefined != nil ? "linker" : g.providerName ?? "weak"
      externals[g.name] = (g.address, provider)
    }
    return externals
  }()
  /// The address of each PLT stub by target name.
  public private(set) lazy var stubs: [String: UInt64] = Dictionary(
    stubReferences.map { (session.name(of: $0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
  /// The address of each GOT slot by target name.
  public private(set) lazy var gotEntries: [String: UInt64] = Dictionary(
    session.gotSlots.map { (session.name(of: $0.key), gotBase + UInt64($0.value * 8)) },
    uniquingKeysWith: { a, _ in a })
  /// The link that made the module, for the tables above.
  let session: LinkSession
  let stubReferences: [SymbolRef: UInt64]
  /// The GOT base (`_GLOBAL_OFFSET_TABLE_`).
  public let gotBase: UInt64
  /// Function symbols (module-local ones too) for symbolisation: address, size, name.
  /// Computed on first use: a link does not pay for names it never shows.
  public private(set) lazy var functions: [(address: UInt64, size: UInt64, name: String)] = {
    var list: [(UInt64, UInt64, String)] = []
    for (o, object) in objects.enumerated() {
      for (i, symbol) in object.symbols.enumerated()
      where symbol.type == SymbolType.function || symbol.type == SymbolType.gnuIFunc {
        guard case .section = symbol.place, symbolAddresses[o][i] != 0 else { continue }
        list.append((symbolAddresses[o][i], symbol.size, object.symbolName(i)))
      }
    }
    return list.sorted { $0.0 < $1.0 }
  }()
  let objects: [ObjectFile]
  let symbolAddresses: [[UInt64]]

  /// Whether a function symbol of the module starts at `address`.
  public func isFunction(_ address: UInt64) -> Bool {
    let list = functions
    var lo = 0
    var hi = list.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if list[mid].address < address { lo = mid + 1 } else { hi = mid }
    }
    return lo < list.count && list[lo].address == address
  }

  init(
    image: consuming MappedImage, session: LinkSession, addresses: [[UInt64]], dsoHandle: UInt64,
    ehFrame: UInt64?, stubs: [SymbolRef: UInt64]
  ) {
    let base = image.baseAddress
    self.session = session
    self.stubReferences = stubs
    self.gotBase = base + UInt64(session.gotArea)
    self.statistics = session.statistics
    self.dsoHandle = dsoHandle
    self.ehFrame = ehFrame
    self.objectNames = session.objects.map(\.name)
    _ = base

    // Constructors: .preinit_array, .init_array.N by ascending N, .init_array, .ctors from the
    // last entry. Finalizers: .fini_array from the last entry, .fini_array.N by descending N,
    // then .dtors from the first.
    struct Table {
      var priority: Int
      var order: Int
      var address: Int
      var count: Int
    }
    var preinit: [Table] = []
    var inits: [Table] = []
    var finis: [Table] = []
    var ctors: [Table] = []
    var dtors: [Table] = []
    var order = 0
    for (o, object) in session.objects.enumerated() {
      for (s, offset) in session.sectionOffsets[o].enumerated() where offset >= 0 {
        let section = object.sections[s]
        let name = section.name
        order += 1
        func priority(_ prefix: String) -> Int? {
          guard name.hasPrefix(prefix) else { return nil }
          let rest = name.dropFirst(prefix.count)
          if rest.isEmpty { return 65536 }
          guard rest.first == ".", let n = Int(rest.dropFirst()) else { return nil }
          return n
        }
        let table = { (p: Int) in
          Table(priority: p, order: order, address: offset, count: Int(section.size / 8))
        }
        if section.type == SectionType.preinitArray || name == ".preinit_array" {
          preinit.append(table(0))
        } else if section.type == SectionType.initArray || name.hasPrefix(".init_array") {
          inits.append(table(priority(".init_array") ?? 65536))
        } else if section.type == SectionType.finiArray || name.hasPrefix(".fini_array") {
          finis.append(table(priority(".fini_array") ?? 65536))
        } else if let p = priority(".ctors") {
          ctors.append(table(p))
        } else if let p = priority(".dtors") {
          dtors.append(table(p))
        }
      }
    }
    let sortedInits = inits.sorted { ($0.priority, $0.order) < ($1.priority, $1.order) }
    let sortedFinis = finis.sorted { ($0.priority, $0.order) < ($1.priority, $1.order) }
    let sortedCtors = ctors.sorted { ($0.priority, $0.order) < ($1.priority, $1.order) }
    let sortedDtors = dtors.sorted { ($0.priority, $0.order) < ($1.priority, $1.order) }
    var lists: [[UInt64]] = []
    for tables in [preinit, sortedInits, sortedCtors, sortedFinis, sortedDtors] {
      var list: [UInt64] = []
      for t in tables {
        for i in 0..<t.count {
          let a = image.loadLittleEndian(UInt64.self, at: t.address + i * 8)
          if a != 0 && a != UInt64.max { list.append(a) }
        }
      }
      lists.append(list)
    }
    self.initializers = lists[0] + lists[1] + lists[2].reversed()
    self.finalizers = lists[3].reversed() + lists[4]
    self.objects = session.objects
    self.symbolAddresses = addresses
    self.image = image
    if let ehFrame {
      ehFrameRegistered = FrameRegistry.add(ehFrame)
    }
    AtExitRegistry.open(dso: dsoHandle)
  }

  deinit {
    if initialized && !finalized { runFinalizers() }
    AtExitRegistry.finalize(dso: dsoHandle)
    if ehFrameRegistered, let ehFrame { FrameRegistry.remove(ehFrame) }
  }

  /// The image's first address.
  public var baseAddress: UInt64 { image.baseAddress }
  /// The image's size in bytes (whole pages).
  public var size: Int { image.byteCount }

  /// Runs the constructors, once.
  public func runInitializers() {
    guard !initialized else { return }
    initialized = true
    for address in initializers { ModuleCall.void(address) }
  }

  /// Runs the module's `atexit`/`__cxa_atexit` handlers (last registered first), then its
  /// finalizers, once: the order `exit` gives an executable's.
  public func runFinalizers() {
    guard initialized && !finalized else { return }
    finalized = true
    AtExitRegistry.finalize(dso: dsoHandle)
    AtExitRegistry.open(dso: dsoHandle)
    for address in finalizers { ModuleCall.void(address) }
  }

  /// Calls `int main(int argc, char **argv)` (or another function of that type) by name.
  ///
  /// - Returns: nil if the module does not define `name`.
  public func callMain(_ name: String, arguments: [String]) -> Int32? {
    guard let address = address(ofExport: name) else { return nil }
    return ModuleCall.main(address, arguments: arguments)
  }

  /// The address of a data object defined in the module (a file-local one too), by name.
  public func objectAddress(named name: String) -> UInt64? {
    for (o, object) in objects.enumerated() {
      for (i, symbol) in object.symbols.enumerated()
      where symbol.type == SymbolType.object && symbolAddresses[o][i] != 0 {
        if object.symbolName(i) == name { return symbolAddresses[o][i] }
      }
    }
    return nil
  }

  /// Whether `address` lies in the module's image.
  public func contains(_ address: UInt64) -> Bool {
    address >= baseAddress && address < baseAddress + UInt64(size)
  }

  /// `function+0xoff` for an address in the module, if a function covers it.
  public func symbolize(_ address: UInt64) -> String? {
    var best: (UInt64, UInt64, String)?
    // Sizes come from the object: compare the distance, which cannot overflow.
    for f in functions where f.address <= address {
      if address - f.address < max(f.size, 1) { best = f }
    }
    guard let best else { return nil }
    let delta = address - best.0
    return delta == 0 ? best.2 : "\(best.2)+\(hex(delta))"
  }

  /// Reads `count` bytes at `address` in the module (for tests and dumps).
  public func bytes(at address: UInt64, count: Int) -> [UInt8] {
    let offset = Int(address - baseAddress)
    return (0..<count).map { image.loadLittleEndian(UInt8.self, at: offset + $0) }
  }

  /// Loads a little-endian integer at `address` in the module.
  public func load<T: FixedWidthInteger>(_: T.Type, at address: UInt64) -> T {
    image.loadLittleEndian(T.self, at: Int(address - baseAddress))
  }
}
