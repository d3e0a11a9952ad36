import LKMBase
import LKMInterface
import ModuleLinker

extension Kernel {
  /// A fault in module code, as the oops in the message buffer tells it.
  public struct Oops: Sendable {
    public var fault: ModuleFault
    /// The module's name (its file name while it loads), or `?` when no module owns the code.
    public var module: String
    /// `function+0xoffset` of the faulting instruction in the module, when known.
    public var place: String?
    /// What the kernel was doing: `LKM_E_LOAD`, `constructor`, `system call 210`, …
    public var during: String
    /// `SIGSEGV`, … (signals), or nil for a panic or the watchdog.
    public var signalName: String?
    /// The oops as written to the message buffer.
    public var text: String
  }

  /// Writes an oops for a fault in module code to the message buffer, taints the kernel and
  /// returns it.
  ///
  /// The oops names where the program counter was: in a module (`function+0xoff` and the
  /// module, which need not be the one called: a module may call another), or outside any
  /// module (the nearest kernel or library symbol).
  @discardableResult
  func oops(
    _ fault: ModuleFault, module name: String, id: Int32, linked: LoadedModule?, during: String
  )
    -> Oops
  {
    tainted = true
    let owner = modules.values.first { $0.linked.contains(fault.pc) }
    let place: String?
    let location: String
    if let owner {
      place = owner.linked.symbolize(fault.pc)
      location = "\(place.map { "(\($0)) " } ?? "")in module '\(owner.name)'"
    } else if let linked, linked.contains(fault.pc) {
      // The module being loaded (not in the table yet).
      place = linked.symbolize(fault.pc)
      location = "\(place.map { "(\($0)) " } ?? "")in module '\(name)'"
    } else {
      place = nil
      let nearest = nearestSymbol(to: fault.pc)
      location = "outside any module" + (nearest.map { " (nearest symbol: \($0))" } ?? "")
    }
    let signal = fault.kind == .signal ? Signals.name(fault.signal) : nil
    var text = "oops: module '\(name)' (id \(id)) during \(during): "
    switch fault.kind {
    case .signal:
      text += describe(fault)
    case .panic:
      text += "panic: \(fault.message)"
    case .watchdog:
      text += "watchdog: ran longer than the watchdog allows (\(Bridge.watchdogSeconds) s)"
    }
    text += ", pc \(hex(fault.pc)) \(location)\n"
    if fault.kind != .panic {
      let names = [
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
        "r12", "r13", "r14", "r15", "rip", "eflags",
      ]
      for row in stride(from: 0, to: 18, by: 4) {
        let cells = (row..<min(row + 4, 18)).map { "\(names[$0]) \(hex(fault.registers[$0]))" }
        text += "  " + cells.joined(separator: "  ") + "\n"
      }
    }
    let loading = linked.flatMap { l in
      l.contains(fault.pc) || fault.trace.contains(where: l.contains) ? (id, name, l) : nil
    }
    text += callTrace(fault, loading: loading)
    text += "kernel tainted\n"
    log(text)
    Bridge.countOops()
    return Oops(
      fault: fault, module: name, place: place, during: during, signalName: signal, text: text)
  }

  /// What a signal fault was, in words.
  func describe(_ fault: ModuleFault) -> String {
    let signal = Signals.name(fault.signal)
    if fault.stackDepth > 0 {
      return
        "stack overflow: \(signal) at address \(hex(fault.address)) in the guard page below the module stack (\(fault.stackDepth) bytes deep)"
    }
    if fault.signal == Signals.SIGSYS, fault.syscall >= 0 {
      let name = Bridge.syscallName(fault.syscall).map { " (\($0))" } ?? ""
      return fault.syscallFromModule
        ? "system call \(fault.syscall)\(name) made from module code: denied (\(signal))"
        : "system call \(fault.syscall)\(name) denied to the kernel process (\(signal))"
    }
    if fault.raised {
      return "\(signal) raised by module code"
    }
    switch fault.signal {
    case Signals.SIGSEGV, Signals.SIGBUS:
      return "\(signal) at address \(hex(fault.address))"
    default:
      return "\(signal) (\(Signals.codeText(fault.signal, fault.code)))"
    }
  }

  /// The nearest symbol below `address` outside modules: a kernel export, or what `dladdr`
  /// finds in the executable and its libraries.
  func nearestSymbol(to address: UInt64) -> String? {
    // dladdr knows the executable's and the libraries' dynamic symbols; the kernel's exports
    // are named for modules (printf for clkm_printf), so they come first when one is close.
    var best: (String, UInt64)?
    for (name, e) in kernelExports where e.isFunction && e.address <= address {
      if best == nil || e.address > best!.1 { best = (name, e.address) }
    }
    if let best, address - best.1 < 0x400 {
      let delta = address - best.1
      return "kernel \(best.0)\(delta == 0 ? "" : "+" + hex(delta))"
    }
    return Bridge.describeHostAddress(address)
  }
}
