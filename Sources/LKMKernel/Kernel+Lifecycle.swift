import LKMBase
public import LKMInterface
import ModuleLinker

extension Kernel {
  /// Calls the entry with `LKM_E_UNLOAD` and removes the module; a refusal is EBUSY, as on
  /// OpenBSD. Returns what the unload hook uprintf-ed.
  ///
  /// With `force` (`modunload -f`, an extension: OpenBSD had none), no module code runs: the
  /// tables the module registered or wrote are put back, its allocations freed and it is
  /// removed. For a module whose unload hook faults, there is no other way out. Modules that
  /// use it, or threads it started, still make it EBUSY: its code must stay mapped for them.
  public func unload(id: Int32, name: String?, force: Bool = false) -> Result<String, Refusal> {
    tick()
    _ = Bridge.takeUserOutput()
    let module: KernelModule
    do { module = try lookup(id: id, name: name) } catch { return .failure(Refusal(error)) }
    guard module.users.isEmpty else {
      let users = module.users.sorted().compactMap { modules[$0]?.name }
      return .failure(Refusal(.EBUSY, lines: ["in use by: " + users.joined(separator: ", ")]))
    }
    let calls = Bridge.activeCalls(of: module.id)
    guard calls == 0 else {
      log(
        "lkm: module '\(module.name)' (id \(module.id)) is in use: \(calls) call\(calls == 1 ? "" : "s") into its code \(calls == 1 ? "has" : "have") not returned (asleep in it)\n"
      )
      return .failure(
        Refusal(
          .EBUSY, lines: ["\(calls) call\(calls == 1 ? "" : "s") into the module still in progress"]
        ))
    }
    let threads = Bridge.threadCount(of: module.id)
    guard threads == 0 else {
      log(
        "lkm: module '\(module.name)' (id \(module.id)) has \(threads) thread\(threads == 1 ? "" : "s") running: it cannot be unloaded until \(threads == 1 ? "it ends" : "they end")\n"
      )
      return .failure(
        Refusal(
          .EBUSY, lines: ["\(threads) thread\(threads == 1 ? "" : "s") of the module still running"]
        ))
    }
    if force {
      log(
        "lkm: module '\(module.name)' (id \(module.id)) removed by force: its unload hook and destructors were not run\n"
      )
      remove(module)
      return .success(Bridge.takeUserOutput())
    }
    Bridge.setCurrentModule(module.id)
    defer { Bridge.setCurrentModule(-1) }
    switch module.record.callEntry(module.entry, command: Kernel.unloadCommand, version: 2) {
    case .failure(let fault):
      module.faulted = true
      Bridge.markFaulted(module.id)
      let oops = oops(
        fault, module: module.name, id: module.id, linked: module.linked, during: "LKM_E_UNLOAD")
      return .failure(
        Refusal(
          .EFAULT, lines: ["the unload hook faulted: 'modunload -f' removes the module without it"],
          output: Bridge.takeUserOutput(), oops: oops))
    case .success(let status) where status != 0:
      return .failure(Refusal(.EBUSY, output: Bridge.takeUserOutput()))
    case .success:
      break
    }
    for finalizer in module.linked.finalizers {
      if let fault = Bridge.callVoid(finalizer, during: "destructor") {
        _ = oops(
          fault, module: module.name, id: module.id, linked: module.linked, during: "destructor")
        break
      }
    }
    let output = Bridge.takeUserOutput()
    remove(module)
    return .success(output)
  }

  /// Takes a module out of the kernel: its registrations and table entries, its allocations,
  /// its record, its symbols and (when the last reference goes) its memory.
  func remove(_ module: KernelModule) {
    for dependency in module.dependencies { modules[dependency]?.users.remove(module.id) }
    cancelTimeouts(id: module.id, name: module.name, linked: module.linked)
    releasePools(id: module.id, name: module.name, linked: module.linked)
    Bridge.forgetModule(module.id)
    module.record.free()
    modules[module.id] = nil
    loadOrder.removeAll { $0 == module.id }
    Bridge.unregisterModule(module.id)
    withdraw(id: module.id)
    releaseAllocations(id: module.id, name: module.name, linked: module.linked)
    auditTables()
  }

  /// Cancels the timeouts a module left pending, and says so.
  func cancelTimeouts(id: Int32, name: String, linked: LoadedModule) {
    let n = Bridge.forgetTimeouts(
      of: id, start: linked.baseAddress, end: linked.baseAddress + UInt64(linked.size))
    if n > 0 {
      log(
        "lkm: module '\(name)' (id \(id)) left \(n) timeout\(n == 1 ? "" : "s") pending: cancelled\n"
      )
    }
  }

  /// Destroys the pools a module left (pool(9): those it initialised, or whose struct pool is in
  /// its image) with their items, and says so.
  func releasePools(id: Int32, name: String, linked: LoadedModule) {
    let pools = Bridge.releasePools(
      of: id, start: linked.baseAddress, end: linked.baseAddress + UInt64(linked.size))
    for pool in pools {
      let items = pool.itemsOut == 1 ? "1 item" : "\(pool.itemsOut) items"
      log(
        "lkm: module '\(name)' (id \(id)) left pool '\(pool.name)' with \(items) out: destroyed\n")
    }
  }

  /// Reports and frees what a module still owns of malloc(9): the total, then the oldest
  /// allocations with their callers (symbolized in `linked`), and any redzone found overwritten.
  func releaseAllocations(id: Int32, name: String, linked: LoadedModule) {
    let (count, bytes, oldest) = Bridge.releaseAllocations(of: id)
    guard count > 0 else { return }
    var text =
      "lkm: module '\(name)' (id \(id)) leaked \(bytes) bytes in \(count) allocation\(count == 1 ? "" : "s"), freed\n"
    for a in oldest {
      let caller = linked.symbolize(a.caller) ?? hex(a.caller)
      text +=
        "lkm:   \(a.size) bytes from \(caller)\(a.overwritten ? ": redzone overwritten" : "")\n"
    }
    if count > UInt64(oldest.count) { text += "lkm:   and \(count - UInt64(oldest.count)) more\n" }
    log(text)
  }

  /// Puts back every entry of the tables modules can write directly (sysent, cdevsw, bdevsw,
  /// execsw, the vfsconf list) that points into memory no loaded module owns, and logs what it
  /// restored.
  func auditTables(sysentOnly: Bool = false) {
    for line in Bridge.auditTables(sysentOnly: sysentOnly) { log("lkm: \(line)\n") }
  }

  /// Calls the entry with `LKM_E_STAT` and reports the module.
  public func stat(id: Int32, name: String?) -> Result<ModuleStatus, Refusal> {
    tick()
    _ = Bridge.takeUserOutput()
    let module: KernelModule
    do { module = try lookup(id: id, name: name) } catch { return .failure(Refusal(error)) }
    if !module.faulted && !Bridge.faultedInC(module.id) {
      Bridge.setCurrentModule(module.id)
      defer { Bridge.setCurrentModule(-1) }
      switch module.record.callEntry(module.entry, command: Kernel.statCommand, version: 2) {
      case .failure(let fault):
        module.faulted = true
        Bridge.markFaulted(module.id)
        let oops = oops(
          fault, module: module.name, id: module.id, linked: module.linked, during: "LKM_E_STAT")
        return .failure(Refusal(.EFAULT, output: Bridge.takeUserOutput(), oops: oops))
      case .success(let status) where status != 0:
        return .failure(Refusal(KernelErrno(status), output: Bridge.takeUserOutput()))
      case .success:
        break
      }
    }
    let info = module.record.info()
    var status = ModuleStatus(
      id: module.id, name: info?.name ?? module.name, type: info?.type ?? 4,
      offset: info?.offset ?? 0, area: module.linked.baseAddress,
      pages: UInt64(module.linked.size / 4096), privateAddress: info?.privateAddress ?? 0,
      version: info?.version ?? 0, faulted: module.faulted || Bridge.faultedInC(module.id))
    status.users = module.users.sorted().compactMap { modules[$0]?.name }
    status.files = module.files
    return .success(status)
  }

  /// The names of the modules that use module `id` (for modunload's EBUSY message).
  public func users(of id: Int32, name: String?) -> [String] {
    guard let module = try? lookup(id: id, name: name) else { return [] }
    return module.users.sorted().compactMap { modules[$0]?.name }
  }

  /// Unloads every module in reverse load order (LKM_E_UNLOAD), as at shutdown. Modules that
  /// refuse are removed anyway, with a message.
  public func shutdown() {
    unmountAll()
    for id in loadOrder.reversed() {
      guard let module = modules[id] else { continue }
      // Users went first (reverse load order); anything left is a cycle that cannot be.
      module.users.removeAll()
      if case .failure(let refusal) = unload(id: id, name: nil) {
        log(
          "lkm: module '\(module.name)' (id \(id)) refused to unload at shutdown: \(refusal.errno.text)\n"
        )
        if modules[id] != nil && Bridge.threadCount(of: id) == 0 { remove(module) }
      }
    }
  }
}
