public import ELFObject

/// An input to a link: an object, or an archive searched for members.
public enum LinkInput: Sendable {
  case object(ObjectFile)
  case archive(Archive)

  /// Reads the file at `path`, as an archive if it starts with the ar magic. An archive this
  /// process read before, unchanged since, comes from ``ArchiveCache/shared`` without being
  /// mapped or indexed again.
  public static func read(_ path: String) throws(LinkError) -> LinkInput {
    if let archive = ArchiveCache.shared.archive(path: path) { return .archive(archive) }
    do {
      return try parse(try FileBytes(contentsOf: path))
    } catch {
      throw LinkError(error)
    }
  }

  /// An object or archive from bytes already read (a load request's), named `name`.
  public static func parse(_ bytes: [UInt8], name: String) throws(LinkError) -> LinkInput {
    do {
      return try parse(FileBytes(bytes, name: name))
    } catch {
      throw LinkError(error)
    }
  }

  /// A mapped file's archive goes through ``ArchiveCache/shared``.
  static func parse(_ bytes: FileBytes) throws(ELFError) -> LinkInput {
    if Archive.isArchive(bytes) { return .archive(try ArchiveCache.shared.archive(bytes: bytes)) }
    return .object(try ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: bytes.name))
  }
}

/// How a module's calls (`R_X86_64_PLT32`) to functions outside it are bound.
public enum CallBinding: Sendable, Equatable {
  /// Directly where the target is within reach, through a stub only where it is not: the
  /// fastest calls.
  case direct
  /// Every such call goes through the target's stub (`jmp *slot(%rip)`), as a shared library's
  /// calls go through its PLT: the module's text then does not depend on where those functions
  /// are, so that a cached image loaded in another process is patched in a few pages of slots
  /// instead of at every call site.
  case throughStubs
}

/// An archive of the toolchain's runtime (libgcc.a) that a link searches, as gcc's driver
/// links it after the objects, for what neither the inputs nor the providers define.
public struct RuntimeArchive: Sendable {
  /// The archive's name in messages and cache keys (`libgcc.a`).
  public var name: String
  /// Finds and reads the archive: called only when a link has undefined symbols left, at most
  /// once per link; nil when there is none.
  public var open: @Sendable () -> Archive?

  public init(name: String, open: @escaping @Sendable () -> Archive?) {
    self.name = name
    self.open = open
  }
}

/// How a link is done.
public struct LinkOptions: Sendable {
  /// Where undefined symbols are looked up, in order.
  public var providers: [any SymbolProvider]
  /// Undefined strong symbols become an error (the default) or are left at 0 and reported as
  /// warnings.
  public var allowUndefined: Bool = false
  /// The module's name in messages.
  public var moduleName: String = "module"
  /// A declaration whose string field a check reads back (OpenBSD modules: `_module`, whose
  /// `lkm_name` is at offset 8), giving ``LinkReport/declaredName``.
  public var declaration: (symbol: String, pointerOffset: Int)?
  /// Advice for an undefined symbol (`did you mean 'X'?`), appended to its message.
  public var suggest: (@Sendable (String) -> String?)?
  /// The entry point: an undefined reference from the start, so that an archive member
  /// defining it is pulled in (as ld's -e does).
  public var entry: String?
  /// How the link calls an IFUNC resolver `void *r(void)` at an address in the module: nil
  /// calls it directly (lkmrun). A kernel passes a guarded call, so that a resolver that faults
  /// fails the link instead of killing the process; a fuzzer passes one that returns nil, so
  /// that no module code runs at all. A nil result fails the link (``LinkError/Code/unsupportedFeature``).
  public var callResolver: (@Sendable (UInt64) -> UInt64?)?
  /// The reserved ranges module memory must lie in; empty (the default) for anywhere.
  ///
  /// When not empty, every mapping the link makes for the module (its image, with its stubs,
  /// thunks, GOT and copies of host objects) is mapped inside one of the regions, and goes
  /// back to it, reserved again, when the module is dropped; a check plans its address inside
  /// them too. Placement constraints (±2 GiB reach of the data a module references
  /// PC-relatively, below 2 GiB for 32-bit absolute references, near the functions it calls)
  /// are intersected with the regions: when no region can hold the module, the link fails with
  /// ``LinkError/Code/unplaceable`` saying why.
  public var regions: [ModuleRegion] = []
  /// A cache of linked images to load from and store in; nil (the default) for none. See
  /// ``ImageCache``: a hit maps the cached image and patches what depends on the address and
  /// the externals, a miss links and stores. A check (``ModuleLinker/check(_:)``) never uses
  /// it.
  public var cache: ImageCache?
  /// Archives searched, members pulled on demand, for the strong symbols still undefined once
  /// the inputs' archives and the providers have been searched (gcc's driver links libgcc.a's
  /// helpers, `__udivti3`, `__popcountdi2`, `__cpu_model`, this way); empty (the default) for
  /// none.
  public var runtimeArchives: [RuntimeArchive] = []
  /// The static TLS reservation modules' thread-local variables are given; nil (the default)
  /// refuses them (`__thread` symbols and sections, every TLS relocation). See ``StaticTLS``.
  public var threadLocalStorage: StaticTLS?
  /// How calls to functions outside the module are bound; nil (the default) for
  /// ``CallBinding/throughStubs`` with a ``cache`` and ``CallBinding/direct`` without.
  public var callBinding: CallBinding?

  /// The binding a link uses.
  var effectiveCallBinding: CallBinding { callBinding ?? (cache == nil ? .direct : .throughStubs) }

  public init(providers: [any SymbolProvider]) {
    self.providers = providers
  }
}

/// Links relocatable objects into the current process.
///
/// A link is a sequence of phases, each producing a value from the one before:
///
/// 1. **resolve** (``SymbolTable``): the objects and the archive members they pull, COMDAT
///    groups kept once, every global resolved to a definition, a provider's symbol or the
///    linker's own;
/// 2. **translate** (``FixupPlan``): every relocation becomes a ``Fixup``; GOT slots, stub
///    candidates and placement constraints are found from the fixups;
/// 3. **layout** (``Layout``): offsets of sections, stubs, thunks, GOT and copies in three
///    page-aligned segments;
/// 4. **map** (``PlacementRequest``): an address every reference reaches from, and the
///    mapping there;
/// 5. **relocate** (``RelocatedImage``): contents, stubs and GOT written, every fixup applied;
///
/// then one of two last steps: a load protects the image, runs IFUNC resolvers and makes a
/// ``LoadedModule`` (whose constructors have not run yet); a check reads back its plan and
/// reports every problem, running nothing.
public struct ModuleLinker {
  public var options: LinkOptions

  public init(options: LinkOptions) {
    self.options = options
  }

  /// Links `inputs` into one module, or loads it from ``LinkOptions/cache`` when the cache
  /// holds it.
  ///
  /// - Throws: ``LinkError`` with every problem of the first failing step.
  public func link(_ inputs: [LinkInput]) throws(LinkError) -> LoadedModule {
    var clock = PhaseClock()
    guard let cache = options.cache else { return try link(inputs, clock: &clock, store: nil) }
    let key = cache.key(cache.inputHashes(inputs), options)
    clock.mark("cache key")
    switch cache.load(
      key, inputNames: inputs.map(\.name) + options.runtimeArchives.map(\.name), options: options,
      clock: &clock)
    {
    case .hit(let module): return module
    case .miss(let reason): return try link(inputs, clock: &clock, store: (cache, key, reason))
    }
  }

  /// Links the objects and archives at `paths` into one module, or loads it from
  /// ``LinkOptions/cache``: a hit maps the files (to key them) but does not parse them.
  ///
  /// - Throws: ``LinkError`` naming a file that cannot be read, or with every problem of the
  ///   first failing step.
  public func link(contentsOf paths: [String]) throws(LinkError) -> LoadedModule {
    var clock = PhaseClock()
    var files: [FileBytes] = []
    for path in paths {
      do { files.append(try FileBytes(contentsOf: path)) } catch { throw LinkError(error) }
    }
    var store: (ImageCache, ContentHash, String)?
    if let cache = options.cache {
      let hashes = files.map { file in
        (
          kind: UInt8(Archive.isArchive(file) ? 2 : 1),
          hash: cache.contentHash(file, 0..<file.count)
        )
      }
      let key = cache.key(hashes, options)
      clock.mark("cache key")
      switch cache.load(
        key, inputNames: paths + options.runtimeArchives.map(\.name), options: options,
        clock: &clock)
      {
      case .hit(let module): return module
      case .miss(let reason): store = (cache, key, reason)
      }
    }
    var inputs: [LinkInput] = []
    for file in files { inputs.append(try LinkInput.parse(inPlace: file)) }
    clock.mark("read")
    return try link(inputs, clock: &clock, store: store)
  }

  /// A fresh link, stored in the cache when `store` says where.
  func link(
    _ inputs: [LinkInput], clock: inout PhaseClock,
    store: (cache: ImageCache, key: ContentHash, missed: String)?
  ) throws(LinkError) -> LoadedModule {
    var problems = Problems(recordsAndContinues: false)
    let table = try SymbolTable.resolve(inputs, options: options, problems: &problems)
    clock.mark("resolve")
    let plan = try FixupPlan.translate(table, problems: &problems)
    clock.mark("translate")
    let layout = try Layout.lay(table, plan, problems: &problems)
    clock.mark("layout")
    let image = try PlacementRequest(table, plan, layout).map(in: options.regions)
    clock.mark("map")
    let tls = try TLSBlock.allocate(options.threadLocalStorage, layout)
    let relocated = try RelocatedImage.relocate(
      image, base: image.baseAddress, table, plan, layout, calls: options.effectiveCallBinding,
      threadLocalBlock: tls?.threadPointerOffset, problems: &problems)
    clock.mark("relocate")
    var outcome: CacheOutcome?
    if let store, plan.usesThreadLocal || layout.threadLocalSize > 0 {
      // The block's place in the reservation and the host's TLS offsets are this process's.
      outcome = .notStored(missed: store.missed, reason: "the module uses thread-local storage")
    } else if let store, let file = table.runtimeFiles.first(where: { $0.identity == nil }) {
      // A hit could not tell whether it changed.
      outcome = .notStored(
        missed: store.missed, reason: "runtime archive '\(file.name)' is not a file")
    } else if let store {
      let record = CacheRecord(
        table, plan, layout, relocated, image, calls: options.effectiveCallBinding)
      if let reason = store.cache.store(store.key, record, image) {
        outcome = .notStored(missed: store.missed, reason: reason)
      } else {
        outcome = .stored(missed: store.missed)
      }
      clock.mark("cache store")
    }
    return try load(image, table, plan, layout, relocated, clock: &clock, cache: outcome, tls: tls)
  }

  /// The load step: protect, run IFUNC resolvers, make the module.
  func load(
    _ image: consuming MappedImage, _ table: SymbolTable, _ plan: FixupPlan, _ layout: Layout,
    _ relocated: RelocatedImage, clock: inout PhaseClock, cache: CacheOutcome? = nil,
    tls: TLSBlock? = nil
  ) throws(LinkError) -> LoadedModule {
    try LoadStep(table, plan, layout, relocated).run(image, callResolver: options.callResolver)
    if let tls { try tls.install(image, layout) }
    let entries = InitTable.entries(InitTable.find(table, layout))
    let initializers = InitTable.read(entries.initializers, image)
    let finalizers = InitTable.read(entries.finalizers, image)
    var statistics = LinkStatistics(table, plan, layout, base: relocated.base)
    statistics.stubCount = relocated.stubs.count
    statistics.gotCount = relocated.gotCount
    statistics.cache = cache
    clock.mark("protect")
    statistics.phases = clock.phases
    let result = ModuleResult(
      statistics: statistics, initializers: initializers, finalizers: finalizers,
      gotBase: relocated.gotBase, dsoHandle: relocated.dsoHandle,
      ehFrame: layout.ehFrameArea.map { relocated.base + UInt64($0) },
      tables: LinkedSymbols(table, plan, layout, relocated), threadLocalBlock: tls,
      threadLocalPlacement: tls.map { ThreadLocalPlacement($0, table, layout) })
    return LoadedModule(image: image, result: result)
  }

  /// Links `inputs` completely into scratch memory at a planned address, without running
  /// anything, and reports every problem: what `modload -n` asks.
  ///
  /// Malformed input ends the check at once (it is the only problem reported then).
  public func check(_ inputs: [LinkInput]) -> LinkReport {
    var clock = PhaseClock()
    var problems = Problems(recordsAndContinues: true)
    var report = LinkReport()
    var resolved: SymbolTable?
    do {
      let table = try SymbolTable.resolve(inputs, options: options, problems: &problems)
      resolved = table
      clock.mark("resolve")
      let plan = try FixupPlan.translate(table, problems: &problems)
      clock.mark("translate")
      let layout = try Layout.lay(table, plan, problems: &problems)
      clock.mark("layout")
      if let error = TLSBlock.checkRoom(options.threadLocalStorage, layout) {
        try problems.report([error])
      }
      let request = PlacementRequest(table, plan, layout)
      let image = try request.mapForCheck(in: options.regions)
      let base = options.regions.isEmpty ? request.plannedBase : image.baseAddress
      clock.mark("map")
      let relocated = try RelocatedImage.relocate(
        image, base: base, table, plan, layout, calls: options.effectiveCallBinding,
        threadLocalBlock: options.threadLocalStorage?.threadPointerOffset, problems: &problems)
      clock.mark("relocate")
      // The check step: what was asked, read back from the scratch image (dropped here).
      report.placements = LinkedSymbols.placements(table, layout.sectionOffset, base: base)
      report.statistics = LinkStatistics(table, plan, layout, base: base)
      report.statistics.stubCount = relocated.stubs.count
      report.statistics.gotCount = relocated.gotCount
      report.entryAddress = options.entry.flatMap { table.globalID($0) }.map {
        relocated.globalAddress[$0]
      }
      report.declaredName = declaredName(image, table, relocated, size: layout.size)
      report.problems = problems.recorded
    } catch {
      report.problems = problems.recorded.isEmpty ? error.all : problems.recorded
    }
    report.statistics.phases = clock.phases
    let table = resolved ?? SymbolTable()
    if let entry = options.entry, report.entryAddress == nil || report.entryAddress == 0,
      table.globalID(entry).map({ !table.globals[$0].isDefined }) ?? true,
      !report.problems.contains(where: { $0.code == .malformedInput })
    {
      report.problems.append(LinkError(.noEntryPoint, "entry point '\(entry)' is not defined"))
    }
    report.warnings = table.warnings
    report.exports = table.globals.filter(\.isDefined).map(\.name)
    report.imports = table.externals.filter { $0.global >= 0 && $0.symbol != nil }
      .map { ($0.name, $0.provider ?? "") }
    return report
  }

  /// The string `options.declaration`'s second field points at (an OpenBSD module's `_module`
  /// and its `lkm_name`), read from the relocated scratch image.
  func declaredName(
    _ image: borrowing MappedImage, _ table: SymbolTable, _ relocated: RelocatedImage, size: Int
  ) -> String? {
    guard let declaration = options.declaration else { return nil }
    let base = relocated.base
    for (o, object) in table.objects.enumerated() {
      let symbols = table.symbolBase[o]
      for i in 0..<object.symbolCount
      where object.symbolType(i) == SymbolType.object && relocated.symbolAddress[symbols + i] != 0 {
        guard object.symbolName(i) == declaration.symbol else { continue }
        let field =
          Int(bitPattern: UInt(relocated.symbolAddress[symbols + i] &- base))
          &+ declaration.pointerOffset
        guard field >= 0, field <= size - 8 else { return nil }
        let pointer = image.loadLittleEndian(UInt64.self, at: field)
        guard pointer >= base, pointer < base + UInt64(size) else { return nil }
        var bytes: [UInt8] = []
        var offset = Int(pointer - base)
        while offset < size, bytes.count < 64 {
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
}

/// What a check found: every problem, warnings, and the plan.
public struct LinkReport: Sendable {
  /// Everything that stops the module from loading, one line each.
  public var problems: [LinkError] = []
  /// What does not stop it (undefined weak symbols).
  public var warnings: [String] = []
  /// Where each section would go.
  public var placements: [SectionPlacement] = []
  public var statistics = LinkStatistics()
  public var entryAddress: UInt64?
  /// The string the declaration names (an OpenBSD module's name), when asked for.
  public var declaredName: String?
  /// The module's global definitions.
  public var exports: [String] = []
  /// The undefined globals a provider gave: name, provider name.
  public var imports: [(name: String, provider: String)] = []
  /// Whether the module would load.
  public var isLinkable: Bool { problems.isEmpty }
  public init() {}
}

/// What the kernel side asks of an input before or besides a link, answered from the one
/// parse (so that a module sent by modload is parsed once on its way to running).
extension LinkInput {
  /// An object or archive in bytes already in memory (a request's), without copying them.
  public static func parse(inPlace bytes: FileBytes) throws(LinkError) -> LinkInput {
    do {
      return try parse(bytes)
    } catch {
      throw LinkError(error)
    }
  }

  /// Whether the input defines the global `name`: an object's defined global symbol, or a name
  /// in an archive's index (modload's entry lookup).
  public func defines(_ name: String) -> Bool {
    let wanted = OwnedName(name)
    switch self {
    case .object(let object):
      for i in 1..<max(object.symbolCount, 1)
      where object.symbolBinding(i) != SymbolBinding.local && object.symbolPlace(i) != .undefined {
        if object.symbolNameBytes(i).equals(wanted.name) { return true }
      }
      return false
    case .archive(let archive):
      return archive.firstMember(defining: wanted.name, where: { _ in true }) != nil
    }
  }

  /// The size of the input's symbol table as OpenBSD's `sym_symsize` counts it (24 bytes a
  /// symbol; 0 for an archive).
  public var symbolTableSize: Int {
    if case .object(let object) = self { return object.symbolCount * 24 }
    return 0
  }

  /// The input's name in messages (a path, or the name its bytes were given).
  public var name: String {
    switch self {
    case .object(let object): object.name
    case .archive(let archive): archive.name
    }
  }

  /// The parsed object, for an object (`modload -o` writes a copy with section addresses).
  public var object: ObjectFile? {
    if case .object(let object) = self { return object }
    return nil
  }
}
