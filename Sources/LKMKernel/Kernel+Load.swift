import ELFObject
public import LKMInterface
public import ModuleLinker

/// Why the kernel refused a request about a module, and what the client is told.
public struct Refusal: Error, Sendable {
  /// The errno of LMREADY or LMUNLOAD: the module's own error, EEXIST, ENFILE, EFAULT, EBUSY…
  public var errno: KernelErrno
  /// Lines that explain it (`in use by: a, b`).
  public var lines: [String] = []
  /// What the module's hooks uprintf-ed before the refusal.
  public var output: String = ""
  /// The oops, when module code faulted.
  public var oops: Kernel.Oops?
  public init(
    _ errno: KernelErrno, lines: [String] = [], output: String = "", oops: Kernel.Oops? = nil
  ) {
    self.errno = errno
    self.lines = lines
    self.output = output
    self.oops = oops
  }
}

/// What a load came to.
public enum LoadOutcome: Sendable {
  /// Loaded (or, for a check, linked: id -1).
  case loaded(LoadResult)
  /// The link failed (modload's exit 1, as ld failing was): every problem.
  case linkFailed(LinkError)
  /// The kernel refused: the LMREADY errno.
  case refused(Refusal)
}

/// What stops a linked module from joining the kernel, whether it is checked (`-n`) or loaded:
/// one function decides both (``Kernel/admissionProblems(exports:declaredName:request:)``).
enum AdmissionProblem: Equatable {
  /// An export the kernel or another module already exports (refused before the module runs).
  case exportClash(String)
  /// A loaded module already has the declared name (EEXIST once the load hook has run, as
  /// lkmexists makes it on OpenBSD).
  case nameInUse(String)

  var message: String {
    switch self {
    case .exportClash(let line): line
    case .nameInUse(let name): "module '\(name)' is already loaded"
    }
  }
}

extension Kernel {
  static let loadCommand: Int32 = 1
  static let unloadCommand: Int32 = 2
  static let statCommand: Int32 = 3

  /// Links a module and calls its entry with `LKM_E_LOAD`.
  ///
  /// The order is OpenBSD's LMREADY: the module's own load hook runs first (through DISPATCH),
  /// then the generic handler (EEXIST, ENFILE, EINVAL). Any failure, a fault included, leaves
  /// the kernel as it was: the module's memory is unmapped, its allocations freed, the tables
  /// it wrote restored, its id free.
  public func load(_ request: LoadRequest) -> LoadOutcome {
    tick()
    _ = Bridge.takeUserOutput()
    let inputs: [LinkInput]
    switch parse(request) {
    case .success(let parsed): inputs = parsed
    case .failure(let error): return .linkFailed(error)
    }
    let entryName: String
    switch Kernel.entryName(of: request, in: inputs) {
    case .success(let name): entryName = name
    case .failure(let error): return .linkFailed(error)
    }
    let kernelSymbols = KernelSymbolProvider(kernel: self)
    let options = linkOptions(for: request, entry: entryName, kernelSymbols: kernelSymbols)
    if request.checkOnly {
      return check(inputs, options: options, request: request, entry: entryName)
    }
    let linked: LoadedModule
    let entry: UInt64
    switch linkWithEntry(inputs, options: options, entry: entryName) {
    case .success(let result): (linked, entry) = result
    case .failure(let error): return .linkFailed(error)
    }
    let declared = Kernel.declaredName(linked)
    let problems = ModuleCheck.admissionProblems(
      exports: Array(linked.exports.keys), declaredName: declared, request: request,
      entry: entryName, kernel: self)
    let clashes = problems.filter { if case .exportClash = $0 { true } else { false } }
    if !clashes.isEmpty {
      return .linkFailed(combined(clashes.map { LinkError(.duplicateDefinition, $0.message) })!)
    }

    reapZombies()
    var id: Int32 = 0
    while modules[id] != nil || zombies[id] != nil { id += 1 }
    guard
      let record = TableRecord(
        id: id, area: linked.baseAddress, size: UInt64(linked.size), entry: entry,
        version: request.version)
    else { return .refused(Refusal(.ENOMEM)) }
    let displayName = declared ?? request.displayName
    Bridge.clearFaultMark(id)
    let text = linked.statistics.segments.first { $0.name == "text" }
    Bridge.registerModule(
      id, name: displayName, base: linked.baseAddress, size: UInt64(linked.size),
      textEnd: linked.baseAddress + UInt64(text?.size ?? 0))
    announce(id: id, name: displayName, linked: linked, inputs: inputs)
    Bridge.setCurrentModule(id)
    defer { Bridge.setCurrentModule(-1) }
    // Tables a module wrote directly and left pointing at freed memory are put back before a
    // new module can be placed where the old one was.
    auditTables()
    func refuse(_ errno: KernelErrno, oops: Oops? = nil) -> LoadOutcome {
      abandon(id: id, name: displayName, record: record, linked: linked)
      return .refused(Refusal(errno, output: Bridge.takeUserOutput(), oops: oops))
    }
    for constructor in linked.initializers {
      if let fault = Bridge.callVoid(constructor, during: "constructor") {
        return refuse(
          .EFAULT,
          oops: oops(fault, module: displayName, id: id, linked: linked, during: "constructor"))
      }
    }
    switch record.callEntry(entry, command: Kernel.loadCommand, version: request.version) {
    case .failure(let fault):
      // DISPATCH stored the declaration before the load hook ran.
      let name = record.info()?.name ?? displayName
      return refuse(
        .EFAULT, oops: oops(fault, module: name, id: id, linked: linked, during: "LKM_E_LOAD"))
    case .success(let status) where status != 0:
      return refuse(KernelErrno(status))
    case .success:
      break
    }
    guard let info = record.info() else {
      log(
        "lkm: module \(id) did not declare itself (lkm_table.private is not a MOD_* declaration in its image)\n"
      )
      return refuse(.EINVAL)
    }
    // Names are unique whatever the type (typed modules already got EEXIST from lkmdispatch;
    // a misc module that does not call lkmexists gets it here).
    if modules.values.contains(where: { $0.name == info.name }) {
      log("lkm: module '\(info.name)' is already loaded: refusing a second copy\n")
      return refuse(.EEXIST)
    }
    record.setReady(true)
    let module = KernelModule(
      id: id, linked: linked, record: record, entry: entry, name: info.name,
      exported: request.exportSymbols)
    module.entryName = entryName
    module.files = request.inputs.map(\.name)
    module.dependencies = kernelSymbols.used
    for dependency in kernelSymbols.used { modules[dependency]?.users.insert(id) }
    modules[id] = module
    loadOrder.append(id)
    Bridge.renameModule(id, info.name)
    relabelDebugInfo(id: id, name: info.name)
    if request.exportSymbols {
      log("DDB symbols added: \(symbolBytes(inputs)) bytes\n")
    }
    return .loaded(
      LoadResult(
        id: id, entry: entry, placements: linked.placements.map(PlacedSection.init),
        output: Bridge.takeUserOutput()))
  }

  /// Links a module completely against the kernel's symbols (memory mapped, every relocation
  /// applied, protected; IFUNC resolvers guarded), then discards it without running any of
  /// its code: the sandbox's link-only mode (a check, `-n`, plans without mapping).
  public func linkOnly(_ request: LoadRequest) -> LoadOutcome {
    tick()
    let inputs: [LinkInput]
    switch parse(request) {
    case .success(let parsed): inputs = parsed
    case .failure(let error): return .linkFailed(error)
    }
    let entryName: String
    switch Kernel.entryName(of: request, in: inputs) {
    case .success(let name): entryName = name
    case .failure(let error): return .linkFailed(error)
    }
    let options = linkOptions(
      for: request, entry: entryName, kernelSymbols: KernelSymbolProvider(kernel: self))
    switch linkWithEntry(inputs, options: options, entry: entryName) {
    case .success(let (linked, entry)):
      return .loaded(
        LoadResult(id: -1, entry: entry, placements: linked.placements.map(PlacedSection.init)))
    case .failure(let error):
      return .linkFailed(error)
    }
  }

  func parse(_ request: LoadRequest) -> Result<[LinkInput], LinkError> {
    Kernel.parse(request.inputs)
  }

  /// The ELF reader on each input (and, before it, the check for objects that hold no machine
  /// code: LTO), as every tool that takes objects runs it first.
  public static func parse(_ requestInputs: [LoadRequest.Input]) -> Result<[LinkInput], LinkError> {
    var inputs: [LinkInput] = []
    do {
      for input in requestInputs {
        if let problem = LinkHints.objectProblem(input.bytes, name: input.name) {
          return .failure(problem)
        }
        inputs.append(try LinkInput.parse(input.bytes, name: input.name))
      }
    } catch {
      return .failure(error)
    }
    return .success(inputs)
  }

  /// The entry's name: the first of the request's candidates (`-e`'s, or `xxxinit` then
  /// `BASENAME_lkmentry`) that an input defines, as modload's nlist(3) check finds it (static
  /// functions included).
  ///
  /// Else modload's message naming the last name tried, `entry point NAME not found in FILE`
  /// (modload.c's, without the a.out underscore it puts before the name: ELF names have none),
  /// then a line that lists the names tried and what to do: the functions the objects define
  /// that look like entries (`*lkmentry`, `*init`, `*entry`), or how to define one.
  ///
  /// The corresponding OpenBSD code is `verify_entry` and its callers in
  /// `sbin/modload/modload.c`.
  public static func entryName(of request: LoadRequest, in inputs: [LinkInput]) -> Result<
    String, LinkError
  > {
    let candidates = request.entryCandidates
    for name in candidates where defines(name, inputs) { return .success(name) }
    let file = request.displayName
    var error = LinkError(.noEntryPoint, "entry point \(candidates.last!) not found in \(file)")
    var hint =
      candidates.count > 1
      ? "tried \(candidates.joined(separator: ", then "))" : "tried \(candidates[0])"
    let found = entryLikeFunctions(inputs).filter { !candidates.contains($0) }
    if let cxx = cxxEntry(candidates, inputs) {
      hint += "; \(file) defines \(cxx) as a C++ function: declare it extern \"C\""
    } else if found.count == 1 {
      hint += "; \(file) defines \(found[0]): use -e \(found[0])"
    } else if !found.isEmpty {
      hint += "; \(file) defines \(found.joined(separator: ", ")): name one with -e"
    } else {
      let base = candidates.last!.hasSuffix("_lkmentry") ? candidates.last! : "NAME_lkmentry"
      hint +=
        "; define int \(base)(struct lkm_table *, int, int) with DISPATCH as its body, or name the entry with -e"
    }
    error.others = [LinkError(.noEntryPoint, hint)]
    return .failure(error)
  }

  /// A candidate defined under its C++ name (`_Z13foo_lkmentryP9lkm_tableii`), demangled.
  static func cxxEntry(_ candidates: [String], _ inputs: [LinkInput]) -> String? {
    for input in inputs {
      guard case .object(let object) = input else { continue }
      for i in object.symbols.indices where i != 0 && !object.symbols[i].isUndefined {
        let name = object.symbolName(i)
        guard name.hasPrefix("_Z"), let demangled = LinkHints.demangle(name) else { continue }
        let base = String(demangled.prefix { $0 != "(" })
        if candidates.contains(base) { return demangled }
      }
    }
    return nil
  }

  /// The functions the objects define that look like a module entry: those that call
  /// lkmdispatch (DISPATCH's last statement), then those whose names end in `lkmentry`, `init`
  /// or `entry` (the compiler's own, beginning with `_`, left out).
  static func entryLikeFunctions(_ inputs: [LinkInput]) -> [String] {
    var names: [String] = []
    for input in inputs {
      guard case .object(let object) = input else { continue }
      for relocations in object.relocationSections {
        for entry in relocations.entries {
          let target = Int(entry.symbolIndex)
          guard target > 0, target < object.symbolCount,
            object.symbolName(target) == "lkmdispatch"
          else { continue }
          for i in object.symbols.indices where i != 0 {
            guard object.symbolType(i) == SymbolType.function,
              object.symbolSection(i) == relocations.target,
              object.symbolValue(i) <= entry.offset,
              entry.offset < object.symbolValue(i) + object.symbolSize(i)
            else { continue }
            let name = object.symbolName(i)
            if !name.hasPrefix("_"), !names.contains(name) { names.append(name) }
          }
        }
      }
    }
    for input in inputs {
      guard case .object(let object) = input else { continue }
      for i in object.symbols.indices where i != 0 && !object.symbols[i].isUndefined {
        guard object.symbolType(i) == SymbolType.function else { continue }
        let name = object.symbolName(i)
        guard !name.hasPrefix("_"), !names.contains(name) else { continue }
        if name.hasSuffix("lkmentry") || name.hasSuffix("init") || name.hasSuffix("entry") {
          names.append(name)
        }
      }
    }
    return names
  }

  /// Whether an input defines `name`: any defined symbol of an object, or an archive's index.
  static func defines(_ name: String, _ inputs: [LinkInput]) -> Bool {
    for input in inputs {
      switch input {
      case .archive(let archive):
        if archive.symbolIndex[name] != nil { return true }
      case .object(let object):
        for i in object.symbols.indices where i != 0 && !object.symbols[i].isUndefined {
          if object.symbolName(i) == name { return true }
        }
      }
    }
    return false
  }

  func linkOptions(for request: LoadRequest, entry: String, kernelSymbols: KernelSymbolProvider)
    -> LinkOptions
  {
    var providers: [any SymbolProvider] = [kernelSymbols]
    if let hostSymbols { providers += [InterposedSymbols(), hostSymbols] }
    var options = LinkOptions(providers: providers)
    options.moduleName = request.displayName
    options.entry = entry
    let hostSymbolsEnabled = hostSymbols != nil
    options.suggest = { [unowned self] name in
      LinkHints.hint(for: name, hostSymbolsEnabled: hostSymbolsEnabled)
        ?? self.suggestion(for: name)
    }
    options.declaration = ("_module", 8)
    // Resolvers are module code: guarded, so that one that faults fails the link, not lkmd.
    options.callResolver = Bridge.callResolver
    options.regions = regions
    // A check (modload -n) links as it always has: no cache, calls bound directly.
    options.cache = request.checkOnly ? nil : imageCache
    // Thread-local variables: a range of the kernel's static reservation, per kernel thread.
    options.threadLocalStorage = Bridge.threadLocalStorage
    return options
  }

  /// Links a module and finds its entry.
  func linkWithEntry(_ inputs: [LinkInput], options: LinkOptions, entry name: String)
    -> Result<(LoadedModule, UInt64), LinkError>
  {
    let linked: LoadedModule
    do {
      linked = try ModuleLinker(options: options).link(inputs)
    } catch {
      return .failure(error)
    }
    guard
      let entry = linked.exports[name]
        ?? linked.functions.first(where: { $0.name == name })?.address
    else {
      return .failure(LinkError(.noEntryPoint, "entry point '\(name)' is not defined"))
    }
    return .success((linked, entry))
  }

  /// Undoes a load that did not complete: the tables the module registered or wrote, its
  /// allocations, its record and its memory (when its `LoadedModule` goes).
  func abandon(id: Int32, name: String, record: TableRecord, linked: LoadedModule) {
    cancelTimeouts(id: id, name: name, linked: linked)
    releasePools(id: id, name: name, linked: linked)
    Bridge.forgetModule(id)
    record.free()
    Bridge.unregisterModule(id)
    withdraw(id: id)
    releaseAllocations(id: id, name: name, linked: linked)
    auditTables()
    // Threads the module started run its code: its memory stays until they end (and its id
    // is not given to another module meanwhile, the threads being counted by it).
    let threads = Bridge.threadCount(of: id)
    if threads > 0 {
      zombies[id] = linked
      log(
        "lkm: module '\(name)' (id \(id)) failed to load but \(threads == 1 ? "a thread it started still runs" : "\(threads) threads it started still run"): its memory stays until \(threads == 1 ? "it ends" : "they end")\n"
      )
    }
  }

  /// Lets go of failed modules whose threads have all ended.
  func reapZombies() {
    for (id, linked) in zombies where Bridge.threadCount(of: id) == 0 {
      zombies[id] = nil
      releaseAllocations(id: id, name: "id \(id)", linked: linked)
    }
  }

  /// The size of the symbol tables sent (sym_symsize), as OpenBSD's message reports it.
  func symbolBytes(_ inputs: [LinkInput]) -> Int {
    var total = 0
    for case .object(let object) in inputs { total += object.symbols.count * 24 }
    return total
  }

  /// modload -n: every problem of linking the module against this kernel, without running it
  /// (``ModuleCheck``, the path an offline check takes too).
  func check(_ inputs: [LinkInput], options: LinkOptions, request: LoadRequest, entry: String)
    -> LoadOutcome
  {
    ModuleCheck.run(inputs, options: options, request: request, entry: entry, kernel: self)
  }
}

/// What a check needs to know of the kernel a module is checked against: the running kernel,
/// or a symbol file (modload -n -A).
protocol KernelSymbolView {
  /// Who exports `name`: nil nobody, "" the kernel itself, else the module's name.
  func owner(ofExport name: String) -> String?
  /// Whether a module of this name is loaded.
  func isLoaded(_ name: String) -> Bool
}

extension Kernel: KernelSymbolView {
  func owner(ofExport name: String) -> String? {
    if kernelExports[name] != nil { return "" }
    return exporter(of: name).map { $0.0.name }
  }
  func isLoaded(_ name: String) -> Bool { modules.values.contains { $0.name == name } }
}

/// The symbol file's view: its unattributed symbols are the kernel's, the others their
/// module's, and a module is loaded when the file lists a symbol of it.
struct SymbolFileView: KernelSymbolView {
  let owners: [String: String]
  let loaded: Set<String>
  init(_ table: SymbolTableProvider) {
    var owners: [String: String] = [:]
    var loaded: Set<String> = []
    for e in table.entries {
      if owners[e.name] == nil { owners[e.name] = e.module ?? "" }
      if let module = e.module { loaded.insert(module) }
    }
    self.owners = owners
    self.loaded = loaded
  }
  func owner(ofExport name: String) -> String? { owners[name] }
  func isLoaded(_ name: String) -> Bool { loaded.contains(name) }
}

/// The verdict on a module before it runs: one path for `modload -n` against the running
/// kernel, `modload -n -A` against a symbol file, and the admission of a real load, so that
/// they cannot disagree.
public enum ModuleCheck {
  /// What stops a module with these exports and this declared name from joining the kernel:
  /// exports that clash with the kernel's or a module's (a module of the same name is left to
  /// the EEXIST its load gets), and a name already loaded.
  static func admissionProblems(
    exports: [String], declaredName: String?, request: LoadRequest, entry: String,
    kernel: any KernelSymbolView
  ) -> [AdmissionProblem] {
    var problems: [AdmissionProblem] = []
    if request.exportSymbols {
      for name in exports.sorted() where name != entry {
        switch kernel.owner(ofExport: name) {
        case nil: continue
        case ""?: problems.append(.exportClash("'\(name)' is already exported by the kernel"))
        case let owner? where owner != declaredName:
          problems.append(.exportClash("'\(name)' is already exported by module '\(owner)'"))
        default: continue
        }
      }
    }
    if let declaredName, kernel.isLoaded(declaredName) {
      problems.append(.nameInUse(declaredName))
    }
    return problems
  }

  static func run(
    _ inputs: [LinkInput], options: LinkOptions, request: LoadRequest, entry: String,
    kernel: any KernelSymbolView
  ) -> LoadOutcome {
    let report = ModuleLinker(options: options).check(inputs)
    // The entry was found by the kernel's rule (static functions count, as nlist(3) sees
    // them); the linker's check looks only at globals.
    var problems = report.problems.filter { $0.code != .noEntryPoint }
    for problem in admissionProblems(
      exports: report.exports, declaredName: report.declaredName, request: request, entry: entry,
      kernel: kernel)
    {
      problems.append(LinkError(.duplicateDefinition, problem.message))
    }
    if let error = combined(problems) { return .linkFailed(error) }
    return .loaded(
      LoadResult(
        id: -1, entry: report.entryAddress ?? 0,
        placements: report.placements.map(PlacedSection.init), warnings: report.warnings))
  }

  /// `modload -n -A FILE`: the check the running kernel would make, against a symbol file.
  public static func offline(_ request: LoadRequest, symbols table: SymbolTableProvider)
    -> LoadOutcome
  {
    let inputs: [LinkInput]
    switch Kernel.parse(request.inputs) {
    case .success(let parsed): inputs = parsed
    case .failure(let error): return .linkFailed(error)
    }
    let entry: String
    switch Kernel.entryName(of: request, in: inputs) {
    case .success(let name): entry = name
    case .failure(let error): return .linkFailed(error)
    }
    var options = LinkOptions(providers: [table])
    options.moduleName = request.displayName
    options.entry = entry
    options.declaration = ("_module", 8)
    // This process's reservation stands for the kernel's: the same size, empty.
    options.threadLocalStorage = Bridge.threadLocalStorage
    let names = table.entries.map(\.name)
    options.suggest = { name in
      LinkHints.hint(for: name)
        ?? SymbolSuggestion.nearest(to: name, in: names).map { "did you mean '\($0)'?" }
    }
    let outcome = run(
      inputs, options: options, request: request, entry: entry, kernel: SymbolFileView(table))
    if case .linkFailed(let error) = outcome {
      return .linkFailed(LinkHints.explain(error))
    }
    return outcome
  }
}

/// One error carrying several problems (the first, with the rest as its others).
func combined(_ errors: [LinkError]) -> LinkError? {
  guard var first = errors.first else { return nil }
  first.others += errors.dropFirst()
  return first
}

extension PlacedSection {
  init(_ placement: SectionPlacement) {
    self.init(
      object: placement.object, index: placement.index, name: placement.name,
      address: placement.address, size: placement.size)
  }
}
