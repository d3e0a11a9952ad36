import ELFObject
import LKMBase

// The last step of a link, one of two. A load copies host objects, protects the image, runs the
// IFUNC resolvers and makes a LoadedModule from a small result. A check reads back what it was
// asked (placements, the entry, the declared name) and drops the scratch image; nothing runs.

/// Times each phase of a link, for ``LinkStatistics/phases``.
struct PhaseClock {
  var phases: [(name: String, nanoseconds: UInt64)] = []
  var last = monotonicNanoseconds()

  mutating func mark(_ name: String) {
    let now = monotonicNanoseconds()
    phases.append((name, now - last))
    last = now
  }
}

/// The tables a loaded module answers from: its link's symbols, or a cache entry's.
protocol ModuleSymbolTables: AnyObject {
  var objectNames: [String] { get }
  /// The module's global definitions, by name.
  func exports() -> [String: UInt64]
  /// The address of the global definition `name`.
  func export(named name: String) -> UInt64?
  /// Function symbols, module-local ones too, sorted by address.
  func functions() -> [(address: UInt64, size: UInt64, name: String)]
  /// The first data object (a file-local one too) named `name`.
  func dataObject(named name: String) -> UInt64?
  func placements() -> [SectionPlacement]
  func externals() -> [String: (address: UInt64, provider: String)]
  func stubs() -> [String: UInt64]
  func gotEntries() -> [String: UInt64]
}

/// What a module keeps of its link: the symbol table and the addresses it got, not the fixups,
/// the plan or the layout.
final class LinkedSymbols: ModuleSymbolTables {
  let table: SymbolTable
  let globalAddress: [UInt64]
  let symbolAddress: [UInt64]
  let sectionOffset: [Int]
  let base: UInt64
  let gotBase: UInt64
  let slotTargets: [SymbolRef]
  let stubList: [(target: SymbolRef, address: UInt64)]

  init(_ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout, _ relocated: RelocatedImage) {
    self.table = table
    self.globalAddress = relocated.globalAddress
    self.symbolAddress = relocated.symbolAddress
    self.sectionOffset = layout.sectionOffset
    self.base = relocated.base
    self.gotBase = relocated.gotBase
    self.slotTargets = plan.slotTargets
    self.stubList = relocated.stubs
  }

  var objectNames: [String] { table.objects.map(\.name) }

  func exports() -> [String: UInt64] {
    var exports: [String: UInt64] = [:]
    exports.reserveCapacity(table.globals.count)
    for (id, g) in table.globals.enumerated() where g.isDefined {
      exports[g.name] = globalAddress[id]
    }
    return exports
  }

  func export(named name: String) -> UInt64? {
    guard let id = table.globalID(name), table.globals[id].isDefined else { return nil }
    return globalAddress[id]
  }

  func functions() -> [(address: UInt64, size: UInt64, name: String)] {
    var list: [(UInt64, UInt64, String)] = []
    for (o, object) in table.objects.enumerated() {
      let symbols = table.symbolBase[o]
      for i in 0..<object.symbolCount {
        let type = object.symbolType(i)
        guard type == SymbolType.function || type == SymbolType.gnuIFunc,
          object.symbolSection(i) >= 0, symbolAddress[symbols + i] != 0
        else { continue }
        list.append((symbolAddress[symbols + i], object.symbolSize(i), object.symbolName(i)))
      }
    }
    return list.sorted { $0.0 < $1.0 }
  }

  func dataObject(named name: String) -> UInt64? {
    let wanted = OwnedName(name)
    return withExtendedLifetime(wanted) {
      for (o, object) in table.objects.enumerated() {
        let symbols = table.symbolBase[o]
        for i in 0..<object.symbolCount
        where object.symbolType(i) == SymbolType.object && symbolAddress[symbols + i] != 0 {
          if object.symbolNameBytes(i).equals(wanted.name) { return symbolAddress[symbols + i] }
        }
      }
      return nil
    }
  }

  func placements() -> [SectionPlacement] {
    Self.placements(table, sectionOffset, base: base)
  }

  static func placements(_ table: SymbolTable, _ sectionOffset: [Int], base: UInt64)
    -> [SectionPlacement]
  {
    var placements: [SectionPlacement] = []
    for (o, object) in table.objects.enumerated() {
      let sections = table.sectionBase[o]
      for s in 0..<object.sectionCount where sectionOffset[sections + s] >= 0 {
        placements.append(
          SectionPlacement(
            object: object.name, index: s, name: object.sectionName(s),
            address: base + UInt64(sectionOffset[sections + s]), size: object.sectionSize(s)))
      }
    }
    return placements
  }

  func externals() -> [String: (address: UInt64, provider: String)] {
    var externals: [String: (UInt64, String)] = [:]
    for (id, g) in table.globals.enumerated() where g.kind == .undefined && g.referenced {
      let provider: String
      if g.linkerDefined != nil {
        provider = "linker"
      } else if g.external >= 0, let name = table.externals[Int(g.external)].provider {
        provider = name
      } else {
        provider = "weak"
      }
      externals[g.name] = (globalAddress[id], provider)
    }
    return externals
  }

  func stubs() -> [String: UInt64] {
    Dictionary(
      stubList.map { (table.name(of: $0.target), $0.address) }, uniquingKeysWith: { a, _ in a })
  }

  func gotEntries() -> [String: UInt64] {
    Dictionary(
      slotTargets.enumerated().map {
        (table.name(of: $0.element), gotBase + UInt64($0.offset * 8))
      },
      uniquingKeysWith: { a, _ in a })
  }
}

/// What a loaded module is made of besides its image: a small result.
struct ModuleResult {
  var statistics: LinkStatistics
  var initializers: [UInt64]
  var finalizers: [UInt64]
  var gotBase: UInt64
  var dsoHandle: UInt64
  var ehFrame: UInt64?
  var tables: any ModuleSymbolTables
  /// The module's range of the static TLS reservation, released with the module.
  var threadLocalBlock: TLSBlock? = nil
  var threadLocalPlacement: ThreadLocalPlacement? = nil
}

/// A constructor or destructor table of the image: its priority, its name and place in link
/// order (which break ties of priority, as ld's `SORT_BY_INIT_PRIORITY` does), its offset and
/// its entry count.
struct InitTable {
  enum Kind: UInt8 { case preinit, initArray, finiArray, ctors, dtors }
  var kind: Kind
  /// `.init_array.N`: N; `.ctors.N`: 65535 - N; none: 65536 (after every numbered one).
  var priority: Int
  var name: String
  var order: Int
  var offset: Int
  var count: Int
}

extension InitTable {
  /// The tables of the module's sections, as ld orders them.
  static func find(_ table: SymbolTable, _ layout: Layout) -> [InitTable] {
    var tables: [InitTable] = []
    var order = 0
    for (o, object) in table.objects.enumerated() {
      let sections = table.sectionBase[o]
      for s in 0..<object.sectionCount {
        let offset = layout.sectionOffset[sections + s]
        guard offset >= 0 else { continue }
        order += 1
        let type = object.sectionType(s)
        let kind: Kind
        if type == SectionType.preinitArray || object.sectionName(s, equals: ".preinit_array") {
          kind = .preinit
        } else if type == SectionType.initArray || object.sectionName(s, hasPrefix: ".init_array") {
          kind = .initArray
        } else if type == SectionType.finiArray || object.sectionName(s, hasPrefix: ".fini_array") {
          kind = .finiArray
        } else if object.sectionName(s, hasPrefix: ".ctors") {
          kind = .ctors
        } else if object.sectionName(s, hasPrefix: ".dtors") {
          kind = .dtors
        } else {
          continue
        }
        let name = kind == .preinit ? "" : object.sectionName(s)
        func priority(_ prefix: String) -> Int? {
          guard name.hasPrefix(prefix) else { return nil }
          let rest = name.dropFirst(prefix.count)
          if rest.isEmpty { return 65536 }
          guard rest.first == ".", let n = Int(rest.dropFirst()), n >= 0, n <= 65535 else {
            return nil
          }
          return n
        }
        let p: Int?
        switch kind {
        case .preinit: p = 0
        case .initArray: p = priority(".init_array") ?? 65536
        case .finiArray: p = priority(".fini_array") ?? 65536
        // .ctors.N and .dtors.N run in the reverse order of their numbers.
        case .ctors: p = priority(".ctors").map { $0 == 65536 ? $0 : 65535 - $0 }
        case .dtors: p = priority(".dtors").map { $0 == 65536 ? $0 : 65535 - $0 }
        }
        guard let p else { continue }
        tables.append(
          InitTable(
            kind: kind, priority: p, name: name, order: order, offset: offset,
            count: Int(object.sectionSize(s) / 8)))
      }
    }
    return tables
  }

  /// The image offsets of the constructor entries and finalizer entries in the order they
  /// run, which is GNU ld's: its script puts `.ctors` in `.init_array` and `.dtors` in
  /// `.fini_array` (`KEEP (*(SORT_BY_INIT_PRIORITY(.init_array.*)
  /// SORT_BY_INIT_PRIORITY(.ctors.*)))`, then `KEEP (*(.init_array .ctors))`), reversing the
  /// entries of each `.ctors`/`.dtors` section, and ld.so runs `.preinit_array`, then
  /// `.init_array` from the first entry, and at exit `.fini_array` from the last.
  ///
  /// Numbered tables sort by priority, then by section name, then in link order; unnumbered
  /// ones follow in link order.
  static func entries(_ tables: [InitTable]) -> (initializers: [Int], finalizers: [Int]) {
    func array(_ kinds: Set<Kind>, reversed legacy: Kind) -> [Int] {
      var list: [Int] = []
      // Unnumbered tables keep link order (the name breaks ties of numbered ones only).
      let sorted = tables.filter { kinds.contains($0.kind) }.sorted {
        let a = $0.priority < 65536 ? $0.name : ""
        let b = $1.priority < 65536 ? $1.name : ""
        return ($0.priority, a, $0.order) < ($1.priority, b, $1.order)
      }
      for t in sorted {
        let entries = (0..<t.count).map { t.offset + $0 * 8 }
        list += t.kind == legacy ? entries.reversed() : entries
      }
      return list
    }
    let initializers =
      array([.preinit], reversed: .dtors) + array([.initArray, .ctors], reversed: .ctors)
    let finalizers = array([.finiArray, .dtors], reversed: .dtors).reversed()
    return (initializers, Array(finalizers))
  }

  /// The functions the entries at `offsets` point to, read from the relocated image (0 and -1
  /// are skipped, as ld.so skips them).
  static func read(_ offsets: [Int], _ image: borrowing MappedImage) -> [UInt64] {
    var list: [UInt64] = []
    for offset in offsets {
      let a = image.loadLittleEndian(UInt64.self, at: offset)
      if a != 0 && a != UInt64.max { list.append(a) }
    }
    return list
  }
}

extension LinkStatistics {
  init(_ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout, base: UInt64) {
    self.init()
    objectCount = table.objects.count
    relocationCounts = plan.relocationCounts
    relocationCount = plan.relocationCount
    segments = [
      .init(name: "text", address: base, size: layout.text.count, protection: .readExecute),
      .init(
        name: "rodata", address: base + UInt64(layout.rodata.lowerBound),
        size: layout.rodata.count, protection: .readOnly),
      .init(
        name: "data", address: base + UInt64(layout.data.lowerBound), size: layout.data.count,
        protection: .readWrite),
    ]
  }
}

/// The load step's work on an image, shared by fresh links and cached loads: host copies,
/// text executable, IFUNC resolvers, read-only data protected.
struct LoadStep {
  /// Read-only host objects to copy: image offset, host address, size.
  var hostCopies: [(offset: Int, address: UInt64, size: Int)] = []
  var ifuncSlots: [(slot: Int, resolver: UInt64)] = []
  var deferred: [(offset: Int, resolver: UInt64, addend: Int64)] = []
  var gotArea: Int
  var rodata: Range<Int>
  var data: Range<Int>
  var base: UInt64

  func run(_ image: borrowing MappedImage, callResolver: (@Sendable (UInt64) -> UInt64?)?)
    throws(LinkError)
  {
    for copy in hostCopies {
      image.copyHostMemory(at: copy.address, count: copy.size, to: copy.offset)
    }
    // Protect text first, so that IFUNC resolvers can run; then fill what they give.
    var resolverFailure: LinkError?
    do {
      try image.protect(0, rodata.lowerBound, .readExecute)
      if !ifuncSlots.isEmpty || !deferred.isEmpty {
        var resolved: [UInt64: UInt64] = [:]
        func resolve(_ resolver: UInt64) -> UInt64 {
          if let known = resolved[resolver] { return known }
          var value: UInt64 = 0
          if let callResolver {
            if let result = callResolver(resolver) {
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
        for (slot, resolver) in ifuncSlots {
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
  }
}

extension LoadStep {
  init(_ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout, _ relocated: RelocatedImage) {
    self.init(
      ifuncSlots: relocated.ifuncSlots, deferred: relocated.deferred, gotArea: layout.gotArea,
      rodata: layout.rodata, data: layout.data, base: relocated.base)
    for (k, id) in plan.hostCopies.enumerated() {
      let symbol = table.provided(id)
      hostCopies.append(
        (layout.hostCopyOffsets[k], symbol?.address ?? 0, Int(symbol?.size ?? 0)))
    }
  }
}
