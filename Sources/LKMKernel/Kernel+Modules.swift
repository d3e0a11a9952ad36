import ELFObject
import ModuleLinker

internal import Glibc

/// The kernel's symbol table as a link sees it: the kernel's exports, then the globals of the
/// modules loaded without -s, in load order.
final class KernelSymbolProvider: SymbolProvider, @unchecked Sendable {
  let providerName = "kernel"
  unowned let kernel: Kernel
  /// The modules whose symbols the link used: its dependencies.
  var used: Set<Int32> = []
  init(kernel: Kernel) { self.kernel = kernel }

  func lookup(_ name: String) -> ProvidedSymbol? {
    if let e = kernel.kernelExports[name] {
      return ProvidedSymbol(address: e.address, isFunction: e.isFunction)
    }
    if let (module, address) = kernel.exporter(of: name) {
      used.insert(module.id)
      return ProvidedSymbol(address: address, isFunction: module.linked.isFunction(address))
    }
    return nil
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
  /// the kernel as it was: the module's memory is unmapped and its id free.
  public func load(_ request: LoadRequest) -> LoadOutcome {
    tick()
    var inputs: [LinkInput] = []
    do {
      for input in request.inputs { inputs.append(try LinkInput.parse(input.bytes, name: input.name)) }
    } catch {
      lastLinkError = error
      return .linkFailed(error.lines)
    }
    let kernelSymbols = KernelSymbolProvider(kernel: self)
    var providers: [any SymbolProvider] = [kernelSymbols]
    if let hostSymbols { providers.append(hostSymbols) }
    var options = LinkOptions(providers: providers)
    options.moduleName = request.inputs.first?.name ?? "module"
    options.entry = request.entry
    options.suggest = { [unowned self] name in self.suggestion(for: name) }
    options.declaration = ("_module", 8)
    // Resolvers are module code: guarded, so that one that faults fails the link, not lkmd.
    options.callResolver = Bridge.callResolver
    if request.checkOnly {
      return check(inputs, options: options, request: request)
    }
    let linked: LoadedModule
    let entry: UInt64
    switch linkWithEntry(inputs, options: options, entry: request.entry) {
    case .success(let result): (linked, entry) = result
    case .failure(let error): return .linkFailed(error.lines)
    }
    if request.exportSymbols {
      // A second copy of a loaded module is OpenBSD's EEXIST case (its load hook runs, then
      // lkmexists refuses it), not a clash of exports.
      let declared = Kernel.declaredName(linked)
      let clashes = exportClashes(linked, entry: request.entry, sameName: declared)
      if !clashes.isEmpty { return .linkFailed(clashes) }
    }

    var id: Int32 = 0
    while modules[id] != nil { id += 1 }
    guard
      let record = TableRecord(
        id: id, area: linked.baseAddress, size: UInt64(linked.size), entry: entry,
        version: request.version)
    else { return .refused(.ENOMEM) }
    let text = linked.statistics.segments.first { $0.name == "text" }
    Bridge.registerText(id, linked.baseAddress, linked.baseAddress + UInt64(text?.size ?? 0))
    Bridge.setCurrentModule(id)
    defer { Bridge.setCurrentModule(-1) }
    func abandon() {
      Bridge.forgetModule(id)
      Bridge.unregisterText(id)
      record.free()
      reportLeaks(id: id, name: request.inputs.first?.name ?? "module")
    }
    for constructor in linked.initializers {
      if let fault = Bridge.callVoid(constructor) {
        oops(fault, moduleName: Kernel.declaredName(linked) ?? request.inputs.first?.name ?? "module", id: id, module: linked, during: "constructor")
        abandon()
        return .refused(.EFAULT)
      }
    }
    switch record.callEntry(entry, command: Kernel.loadCommand, version: request.version) {
    case .failure(let fault):
      // DISPATCH stored the declaration before the load hook ran.
      let name = record.info()?.name ?? Kernel.declaredName(linked) ?? request.inputs.first?.name ?? "module"
      oops(fault, moduleName: name, id: id, module: linked, during: "LKM_E_LOAD")
      abandon()
      return .refused(.EFAULT)
    case .success(let status) where status != 0:
      abandon()
      return .refused(KernelErrno(status))
    case .success:
      break
    }
    guard let info = record.info() else {
      log("lkm: module \(id) did not declare itself (lkm_table.private is not a MOD_* declaration in its image)\n")
      abandon()
      return .refused(.EINVAL)
    }
    record.setReady(true)
    let module = KernelModule(
      id: id, linked: linked, record: record, entry: entry, name: info.name,
      exported: request.exportSymbols)
    module.entryName = request.entry
    module.dependencies = kernelSymbols.used
    for dependency in kernelSymbols.used { modules[dependency]?.users.insert(id) }
    modules[id] = module
    loadOrder.append(id)
    if request.exportSymbols {
      log("DDB symbols added: \(symbolBytes(request)) bytes\n")
    }
    return .loaded(id: id, placements: linked.placements, entry: entry)
  }

  /// Links a module completely against the kernel's symbols (memory mapped, every relocation
  /// applied, protected; IFUNC resolvers guarded), then discards it without running any of
  /// its code: the sandbox's link-only mode (a check, `-n`, plans without mapping).
  public func linkOnly(_ request: LoadRequest) -> LoadOutcome {
    tick()
    var inputs: [LinkInput] = []
    do {
      for input in request.inputs { inputs.append(try LinkInput.parse(input.bytes, name: input.name)) }
    } catch {
      lastLinkError = error
      return .linkFailed(error.lines)
    }
    var providers: [any SymbolProvider] = [KernelSymbolProvider(kernel: self)]
    if let hostSymbols { providers.append(hostSymbols) }
    var options = LinkOptions(providers: providers)
    options.moduleName = request.inputs.first?.name ?? "module"
    options.entry = request.entry
    options.callResolver = Bridge.callResolver
    let linked: LoadedModule
    let entry: UInt64
    switch linkWithEntry(inputs, options: options, entry: request.entry) {
    case .success(let result): (linked, entry) = result
    case .failure(let error): return .linkFailed(error.lines)
    }
    return .loaded(id: -1, placements: linked.placements, entry: entry, warnings: [])
  }

  /// Links a module and finds its entry; a failure is remembered for the sandbox.
  func linkWithEntry(_ inputs: [LinkInput], options: LinkOptions, entry name: String)
    -> Result<(LoadedModule, UInt64), LinkError>
  {
    let linked: LoadedModule
    do {
      linked = try ModuleLinker(options: options).link(inputs)
    } catch {
      lastLinkError = error
      return .failure(error)
    }
    guard let entry = linked.exports[name] ?? linked.functions.first(where: { $0.name == name })?.address
    else {
      let error = LinkError(.noEntryPoint, "entry point '\(name)' is not defined")
      lastLinkError = error
      return .failure(error)
    }
    return .success((linked, entry))
  }

  /// The size of the symbol tables sent (sym_symsize), as OpenBSD's message reports it.
  func symbolBytes(_ request: LoadRequest) -> Int {
    var total = 0
    for input in request.inputs {
      let bytes = FileBytes(input.bytes, name: input.name)
      guard !Archive.isArchive(bytes),
        let object = try? ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: input.name)
      else { continue }
      total += object.symbols.count * 24
    }
    return total
  }

  /// Calls the entry with `LKM_E_UNLOAD`; a refusal is EBUSY, as on OpenBSD.
  public func unload(id: Int32, name: String?) throws(KernelErrno) {
    tick()
    let module = try lookup(id: id, name: name)
    guard module.users.isEmpty else { throw .EBUSY }
    Bridge.setCurrentModule(module.id)
    defer { Bridge.setCurrentModule(-1) }
    switch module.record.callEntry(module.entry, command: Kernel.unloadCommand, version: 2) {
    case .failure(let fault):
      module.faulted = true
      oops(fault, moduleName: module.name, id: module.id, module: module.linked, during: "LKM_E_UNLOAD")
      throw .EFAULT
    case .success(let status) where status != 0:
      throw .EBUSY
    case .success:
      break
    }
    for finalizer in module.linked.finalizers {
      if let fault = Bridge.callVoid(finalizer) {
        oops(fault, moduleName: module.name, id: module.id, module: module.linked, during: "destructor")
        break
      }
    }
    remove(module)
  }

  func remove(_ module: KernelModule) {
    for dependency in module.dependencies { modules[dependency]?.users.remove(module.id) }
    Bridge.forgetModule(module.id)
    Bridge.unregisterText(module.id)
    module.record.free()
    modules[module.id] = nil
    loadOrder.removeAll { $0 == module.id }
    reportLeaks(id: module.id, name: module.name)
  }

  func reportLeaks(id: Int32, name: String) {
    let (count, bytes) = Bridge.allocations(of: id)
    if count > 0 {
      log("lkm: module '\(name)' (id \(id)) leaked \(bytes) bytes in \(count) allocation\(count == 1 ? "" : "s")\n")
    }
    Bridge.resetAllocations(of: id)
  }

  /// Calls the entry with `LKM_E_STAT` and reports the module.
  public func stat(id: Int32, name: String?) throws(KernelErrno) -> ModuleStatus {
    tick()
    let module = try lookup(id: id, name: name)
    if !module.faulted {
      Bridge.setCurrentModule(module.id)
      defer { Bridge.setCurrentModule(-1) }
      switch module.record.callEntry(module.entry, command: Kernel.statCommand, version: 2) {
      case .failure(let fault):
        module.faulted = true
        oops(fault, moduleName: module.name, id: module.id, module: module.linked, during: "LKM_E_STAT")
        throw .EFAULT
      case .success(let status) where status != 0:
        throw KernelErrno(status)
      case .success:
        break
      }
    }
    let info = module.record.info()
    var status = ModuleStatus(
      id: module.id, name: info?.name ?? module.name, type: info?.type ?? 4,
      offset: info?.offset ?? 0, area: module.linked.baseAddress,
      pages: UInt64(module.linked.size / 4096), privateAddress: info?.privateAddress ?? 0,
      version: info?.version ?? 0, faulted: module.faulted)
    status.users = module.users.sorted().compactMap { modules[$0]?.name }
    return status
  }

  /// An argument of a system call: an integer, or a string passed as a pointer to a copy.
  public enum SyscallArgument: Sendable {
    case integer(Int64)
    case string(String)
  }

  /// Runs `sysent[number]` for a client: (errno or 0, retval[0], what was uprintf-ed).
  public func syscall(
    _ number: Int32, _ arguments: [SyscallArgument], credentials: Credentials
  ) -> (error: KernelErrno?, retval: Int64, output: String) {
    tick()
    _ = Bridge.takeUserOutput()
    var copies: [UnsafeMutablePointer<CChar>] = []
    defer { copies.forEach { free($0) } }
    let values: [Int64] = arguments.map {
      switch $0 {
      case .integer(let v): return v
      case .string(let s):
        let copy = strdup(s)!
        copies.append(copy)
        return Int64(Int(bitPattern: copy))
      }
    }
    let handler = Bridge.handler(ofSlot: number)
    let owner = modules.values.first { $0.linked.contains(handler) }
    Bridge.setCurrentModule(owner?.id ?? -1)
    defer { Bridge.setCurrentModule(-1) }
    switch Bridge.callSyscall(
      number, pid: credentials.pid, uid: credentials.uid, command: credentials.command,
      arguments: values)
    {
    case .failure(let fault):
      if let owner {
        owner.faulted = true
        oops(fault, moduleName: owner.name, id: owner.id, module: owner.linked, during: "system call \(number)")
      } else {
        oops(fault, moduleName: "?", id: -1, module: nil, during: "system call \(number)")
      }
      return (.EFAULT, 0, Bridge.takeUserOutput())
    case .success(let (error, retval)):
      return (error == 0 ? nil : KernelErrno(error), retval, Bridge.takeUserOutput())
    }
  }

  /// Writes an oops for a fault in module code to the message buffer and taints the kernel.
  func oops(_ fault: ModuleFault, moduleName: String, id: Int32, module: LoadedModule?, during: String) {
    tainted = true
    let place = module?.symbolize(fault.pc).map { "\($0) " } ?? ""
    lastOops = Oops(
      fault: fault, module: moduleName, place: place.isEmpty ? nil : String(place.dropLast()),
      during: during, signalName: fault.kind == .signal ? signalName(fault.signal) : nil)
    var text = "oops: module '\(moduleName)' (id \(id)) during \(during): "
    switch fault.kind {
    case .signal:
      text += "\(signalName(fault.signal)) at address \(hexString(fault.address)), "
    case .panic:
      text += "panic: \(fault.message), "
    case .watchdog:
      text += "watchdog: ran longer than the watchdog allows, "
    }
    text += "pc \(hexString(fault.pc)) \(place.isEmpty ? "" : "(\(place.dropLast())) ")in module text\n"
    let names = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
                 "r12", "r13", "r14", "r15", "rip", "eflags"]
    if fault.kind != .panic {
      for row in stride(from: 0, to: 18, by: 4) {
        text += "  " + (row..<min(row + 4, 18)).map { "\(names[$0]) \(hexString(fault.registers[$0]))" }.joined(separator: "  ") + "\n"
      }
    }
    text += "kernel tainted\n"
    log(text)
  }

  func signalName(_ signal: Int32) -> String {
    switch signal {
    case 11: "SIGSEGV"
    case 7: "SIGBUS"
    case 4: "SIGILL"
    case 8: "SIGFPE"
    case 14: "SIGALRM"
    default: "signal \(signal)"
    }
  }

  /// The kernel symbol table: the kernel's exports, then each exporting module's globals.
  public func symbols() -> [KernelSymbol] {
    var list = kernelExports.map {
      KernelSymbol(address: $0.value.address, type: $0.value.isFunction ? "T" : "D", name: $0.key, module: nil)
    }
    for id in loadOrder {
      guard let module = modules[id], module.exported else { continue }
      for (name, address) in module.linked.exports where name != module.entryName {
        list.append(KernelSymbol(address: address, type: module.linked.isFunction(address) ? "T" : "D", name: name, module: module.name))
      }
    }
    return list.sorted { ($0.address, $0.name) < ($1.address, $1.name) }
  }

  /// The names of the modules that use module `id` (for modunload's EBUSY message).
  public func users(of id: Int32, name: String?) -> [String] {
    guard let module = try? lookup(id: id, name: name) else { return [] }
    return module.users.sorted().compactMap { modules[$0]?.name }
  }

  /// The module exporting `name` (not one loaded with -s), and the address.
  func exporter(of name: String) -> (KernelModule, UInt64)? {
    for id in loadOrder {
      guard let module = modules[id], module.exported, name != module.entryName,
        let address = module.linked.exports[name]
      else { continue }
      return (module, address)
    }
    return nil
  }

  /// Each global the module would export that the kernel or a module exports already. The
  /// entry function is the module's own, never exported.
  func exportClashes(_ linked: LoadedModule, entry: String, sameName: String?) -> [String] {
    exportClashes(names: Array(linked.exports.keys), entry: entry, sameName: sameName)
  }

  /// Clashes with the kernel's exports or another module's; a module of the same name (a
  /// second copy) is left to the EEXIST its load gets.
  func exportClashes(names: [String], entry: String, sameName: String? = nil) -> [String] {
    var lines: [String] = []
    for name in names.sorted() where name != entry {
      if kernelExports[name] != nil {
        lines.append("'\(name)' is already exported by the kernel")
      } else if let (owner, _) = exporter(of: name), owner.name != sameName {
        lines.append("'\(name)' is already exported by module '\(owner.name)'")
      }
    }
    return lines
  }

  /// The name in the module's `MOD_*` declaration (`_module`'s `lkm_name`), read from its image.
  static func declaredName(_ linked: LoadedModule) -> String? {
    guard let declaration = linked.objectAddress(named: "_module"),
      linked.contains(declaration), linked.contains(declaration + 15)
    else { return nil }
    let pointer = linked.load(UInt64.self, at: declaration + 8)
    var bytes: [UInt8] = []
    var address = pointer
    while linked.contains(address), bytes.count < 32 {
      let b = linked.load(UInt8.self, at: address)
      if b == 0 { return String(decoding: bytes, as: UTF8.self) }
      bytes.append(b)
      address += 1
    }
    return nil
  }

  /// "did you mean 'X'?" for an undefined symbol, or who defines it without exporting it.
  public func suggestion(for name: String) -> String? {
    for id in loadOrder {
      guard let module = modules[id], !module.exported, module.linked.exports[name] != nil else { continue }
      return "module '\(module.name)' (id \(id)) defines it, but was loaded with -s"
    }
    var candidates = Array(kernelExports.keys)
    for id in loadOrder where modules[id]?.exported == true {
      candidates += modules[id]!.linked.exports.keys
    }
    return SymbolSuggestion.nearest(to: name, in: candidates).map { "did you mean '\($0)'?" }
  }

  /// modload -n: every problem of linking the module against this kernel, without running it.
  func check(_ inputs: [LinkInput], options: LinkOptions, request: LoadRequest) -> LoadOutcome {
    let report = ModuleLinker(options: options).check(inputs)
    var lines = report.problems.map(\.message)
    if request.exportSymbols {
      lines += exportClashes(names: report.exports, entry: request.entry, sameName: report.declaredName)
    }
    // The MOD_* name, read from the linked module's declaration, must be free.
    if let name = report.declaredName, modules.values.contains(where: { $0.name == name }) {
      lines.append("module '\(name)' is already loaded")
    }
    guard lines.isEmpty else { return .linkFailed(lines) }
    return .loaded(
      id: -1, placements: report.placements, entry: report.entryAddress ?? 0,
      warnings: report.warnings)
  }

  /// `MODULE:function+0xoff` or `kernel:function+0xoff` for an address, for `lkmctl addr`.
  public func symbolize(_ address: UInt64) -> String? {
    for id in loadOrder {
      guard let module = modules[id], module.linked.contains(address) else { continue }
      let place = module.linked.symbolize(address) ?? "\(hexString(address - module.linked.baseAddress)) bytes into its image"
      return "module '\(module.name)' (id \(id)): \(place)"
    }
    var best: (String, UInt64)?
    for (name, e) in kernelExports where e.address <= address {
      if best == nil || e.address > best!.1 { best = (name, e.address) }
    }
    if let best, address - best.1 < 1 << 16 {
      let delta = address - best.1
      return "kernel: \(best.0)\(delta == 0 ? "" : "+" + hexString(delta))"
    }
    return nil
  }

  /// Unloads every module in reverse load order (LKM_E_UNLOAD), as at shutdown. Modules that
  /// refuse are removed anyway, with a message.
  public func shutdown() {
    unmountAll()
    for id in loadOrder.reversed() {
      guard let module = modules[id] else { continue }
      // Users went first (reverse load order); anything left is a cycle that cannot be.
      module.users.removeAll()
      do {
        try unload(id: id, name: nil)
      } catch {
        log("lkm: module '\(module.name)' (id \(id)) refused to unload at shutdown: \(error.text)\n")
        remove(module)
      }
    }
  }
}

func hexString(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
