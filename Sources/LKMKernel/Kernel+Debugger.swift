// Module code made visible to debuggers and profilers, and described by source line: each
// module is registered with gdb (its objects through the JIT interface) from before its
// constructors run until its memory goes, listed in perf's map when the kernel keeps one
// (--perf-map), and oopses and `lkmctl addr` read its DWARF under a fault guard.
internal import CLKM
import LKMBase
import ModuleDebugInfo
import ModuleLinker
import Synchronization

/// What the kernel keeps for debuggers: each module's objects, and perf's map.
final class DebuggerState: @unchecked Sendable {
  static let shared = DebuggerState()
  private let lock = Mutex(())
  private var modules: [Int32: ModuleDebugInfo] = [:]
  private var labels: [Int32: String] = [:]
  private(set) var perfMap: PerfMap?

  init() {}

  func withLock<T>(_ body: () -> T) -> T {
    lock.withLock { _ in body() }
  }

  func enablePerfMap() { withLock { if perfMap == nil { perfMap = PerfMap() } } }

  func add(_ id: Int32, _ info: ModuleDebugInfo, label: String) {
    withLock {
      modules[id] = info
      labels[id] = label
    }
  }
  func remove(_ id: Int32) -> ModuleDebugInfo? {
    withLock {
      labels[id] = nil
      return modules.removeValue(forKey: id)
    }
  }
  func info(_ id: Int32) -> ModuleDebugInfo? { withLock { modules[id] } }
  func relabel(_ id: Int32, _ label: String) -> String? {
    withLock {
      let old = labels[id]
      labels[id] = label
      return old
    }
  }
}

extension Kernel {
  /// Writes `/tmp/perf-PID.map` for every module from now on (`lkmd --perf-map`).
  public func enablePerfMap() { DebuggerState.shared.enablePerfMap() }

  /// The path of perf's map, when the kernel keeps one.
  public var perfMapPath: String? { DebuggerState.shared.perfMap?.path }

  /// Makes a module that is about to run visible: its `.eh_frame` to call traces, its objects
  /// to gdb, its functions to perf's map. Called once its image is registered, before any of
  /// its code runs.
  func announce(id: Int32, name: String, linked: LoadedModule, inputs: [LinkInput]) {
    if let ehFrame = linked.ehFrameAddress { clkm_set_module_eh_frame(id, ehFrame) }
    guard debugging else { return }
    let info = ModuleDebugInfo(module: linked, inputs: inputs)
    info.register()
    DebuggerState.shared.add(id, info, label: name)
    DebuggerState.shared.perfMap?.add(key: Int(id), functions: info.functions, suffix: " [\(name)]")
  }

  /// The module declared its name: perf's map says it.
  func relabelDebugInfo(id: Int32, name: String) {
    guard let old = DebuggerState.shared.relabel(id, name) else { return }
    DebuggerState.shared.perfMap?.relabel(key: Int(id), from: " [\(old)]", to: " [\(name)]")
  }

  /// Takes a module out of gdb's list and marks it unloaded in perf's map: before its memory
  /// goes.
  func withdraw(id: Int32) {
    let info = DebuggerState.shared.remove(id)
    DebuggerState.shared.perfMap?.remove(key: Int(id))
    _ = info  // its objects are unregistered and freed as it goes
  }

  /// `function+0xoff (file.c:21)` for an address in a module's code: the line from the
  /// module's DWARF, read under a fault guard (a malformed DWARF costs the line, not the
  /// kernel). `returnAddress`: the line of the call before it.
  func describeModuleAddress(
    _ address: UInt64, id: Int32, linked: LoadedModule, returnAddress: Bool = false
  )
    -> String?
  {
    guard
      let place = returnAddress
        ? Kernel.returnPlace(address, in: linked) : linked.symbolize(address)
    else { return nil }
    guard let info = DebuggerState.shared.info(id), info.hasLineInformation else { return place }
    let lineAddress = returnAddress ? address - 1 : address
    guard let line = guardedSourceLine(info, lineAddress) else { return place }
    return "\(place) (\(line.file):\(line.line))"
  }

  /// `function+0xoff` for a return address: the function is the one holding the call (the
  /// address before it), since a call to a function that does not return may be its last
  /// instruction; the offset is the return address's.
  static func returnPlace(_ address: UInt64, in linked: LoadedModule) -> String? {
    guard address > 0 else { return nil }
    for f in linked.functions
    where f.address <= address - 1 && address - 1 - f.address < max(f.size, 1) {
      return "\(f.name)+\(hex(address - f.address))"
    }
    return nil
  }

  /// Loads the library that reads source lines (libdw), before any is read under a guard.
  static func loadLineReader() { ModuleDebugInfo.loadLineReader() }

  /// The source line of `address` from `info`, read under the kernel's reader guard (2 s).
  func guardedSourceLine(_ info: ModuleDebugInfo, _ address: UInt64) -> (file: String, line: Int)? {
    final class Query {
      let info: ModuleDebugInfo
      let address: UInt64
      var result: (file: String, line: Int)?
      init(_ info: ModuleDebugInfo, _ address: UInt64) {
        self.info = info
        self.address = address
      }
    }
    let query = Query(info, address)
    let context = unsafe Unmanaged.passRetained(query)
    defer { unsafe context.release() }
    let status = unsafe clkm_call_reader(
      { raw in
        let query = unsafe Unmanaged<Query>.fromOpaque(raw!).takeUnretainedValue()
        query.result = query.info.sourceLine(of: query.address)
        return 0
      }, unsafe context.toOpaque(), 2)
    if status != 0 {
      log(
        "lkm: reading the debug information at \(hex(address)) failed (malformed DWARF?): no line\n"
      )
      return nil
    }
    return query.result
  }

  /// The oops's call trace: one line per frame, innermost first (`  0x… name+0xoff (file:line)
  /// [module]`); empty when it would say no more than the oops's first line.
  func callTrace(_ fault: ModuleFault, loading: (id: Int32, name: String, linked: LoadedModule)?)
    -> String
  {
    guard !fault.trace.isEmpty else { return "" }
    var lines: [String] = []
    var informative = fault.trace.count > 1
    for (i, address) in fault.trace.enumerated() {
      var text = "  \(hex(address)) "
      if let owner = modules.values.first(where: { $0.linked.contains(address) }) {
        let place =
          describeModuleAddress(address, id: owner.id, linked: owner.linked, returnAddress: i > 0)
          ?? "\(hex(address - owner.linked.baseAddress)) bytes into its image"
        if place.hasSuffix(")") { informative = true }
        text += "\(place) [\(owner.name)]"
      } else if let loading, loading.linked.contains(address) {
        let place =
          describeModuleAddress(
            address, id: loading.id, linked: loading.linked, returnAddress: i > 0)
          ?? "\(hex(address - loading.linked.baseAddress)) bytes into its image"
        if place.hasSuffix(")") { informative = true }
        text += "\(place) [\(loading.name)]"
      } else {
        text += nearestSymbol(to: address) ?? "?"
      }
      lines.append(text)
    }
    guard informative else { return "" }
    return "call trace:\n" + lines.joined(separator: "\n") + "\n"
  }
}
