import LKMBase
import LKMInterface

/// Where module code faulted: the signal (or `panic`, `watchdog`), the function and offset, the
/// command the kernel was running.
public struct ModuleFaultSite: Sendable, Hashable {
  /// `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`, `SIGSYS` (killed by the filter), `panic`,
  /// `watchdog`, or `exit` (module code ended the process through the host C library).
  public var signal: String
  /// `function+0xoffset` in the module, when the kernel could name it.
  public var place: String?
  /// `LKM_E_LOAD`, `LKM_E_STAT`, `LKM_E_UNLOAD`, `constructor`, `destructor`, or `module code`
  /// when the child died without an oops.
  public var during: String
  /// The faulting instruction's address (0 when unknown).
  public var pc: UInt64
  /// The fault address (`si_addr`), 0 when unknown.
  public var address: UInt64
  /// The panic message or other detail; may be empty.
  public var detail: String

  public init(
    signal: String, place: String?, during: String, pc: UInt64 = 0, address: UInt64 = 0,
    detail: String = ""
  ) {
    self.signal = signal
    self.place = place
    self.during = during
    self.pc = pc
    self.address = address
    self.detail = detail
  }

  /// What makes two faults the same finding: the signal, the place and the command (not the
  /// addresses, which move from one load to the next).
  public var key: String { "\(signal) \(place ?? "?") \(during)" }
}

/// What running a module in the sandbox showed.
///
/// A module fault is the module's doing and the kernel survived it; a loader crash, a timeout
/// of the loader, or running out of memory while linking are this project's bugs.
public enum SandboxVerdict: Sendable, Equatable {
  /// The reader or linker refused the module: the ``LinkError`` code and the message.
  case rejected(code: String, message: String)
  /// The module linked; each command's return (0, or an OpenBSD errno), nil where not run
  /// (link only; stat and unload after a failed load).
  case loaded(load: Int32, stat: Int32?, unload: Int32?)
  /// Module code faulted (the embedded kernel wrote an oops), or the child died while module
  /// code ran (`SIGSYS`: the filter killed it).
  case moduleFault(ModuleFaultSite)
  /// The child died of a signal while the loader or the kernel, not module code, was running:
  /// a bug in this project. `afterModuleCode` tells that module code had run before (and may
  /// have corrupted the kernel).
  case loaderCrash(signal: Int32, afterModuleCode: Bool, detail: String)
  /// The child ran past the wall-clock timeout (or its CPU limit) and was killed;
  /// `inModuleCode`: module code was running then (the module's own loop).
  case timeout(seconds: Double, inModuleCode: Bool)
  /// The child ran out of its address-space limit (or was killed by the system for memory);
  /// `byModule`: the module's own malloc(9) found no memory.
  case outOfMemory(detail: String, byModule: Bool)

  /// The verdict's kind, for counting.
  public enum Kind: String, Sendable, CaseIterable, Hashable {
    case rejected, loaded
    case moduleFault = "module fault"
    case loaderCrash = "loader crash"
    case timeout
    case outOfMemory = "out of memory"
  }

  public var kind: Kind {
    switch self {
    case .rejected: .rejected
    case .loaded: .loaded
    case .moduleFault: .moduleFault
    case .loaderCrash: .loaderCrash
    case .timeout: .timeout
    case .outOfMemory: .outOfMemory
    }
  }

  /// Whether this is a bug of the loader or the kernel (what modfuzz exits 1 for): a loader
  /// crash, or a timeout or running out of memory that module code did not cause.
  public var isFinding: Bool {
    switch self {
    case .loaderCrash: true
    case .timeout(_, let inModuleCode): !inModuleCode
    case .outOfMemory(_, let byModule): !byModule
    default: false
    }
  }

  /// Whether `modload --sandbox` may go on: loaded, and `LKM_E_LOAD` returned 0.
  public var allowsLoad: Bool {
    if case .loaded(load: 0, _, _) = self { return true }
    return false
  }

  /// One line for people: `verdict: detail`.
  public var description: String {
    switch self {
    case .rejected(let code, let message):
      return "rejected (\(code)): \(message)"
    case .loaded(let load, let stat, let unload):
      if load == 0 && stat == nil && unload == nil {
        return "loaded: linked, nothing run (link only)"
      }
      var parts = ["LKM_E_LOAD \(load)"]
      if let stat { parts.append("LKM_E_STAT \(stat)") }
      if let unload { parts.append("LKM_E_UNLOAD \(unload)") }
      return "loaded: " + parts.joined(separator: ", ")
    case .moduleFault(let site):
      var text = "module fault: \(site.signal)"
      if let place = site.place { text += " in '\(place)'" }
      text += " during \(site.during)"
      if site.pc != 0 { text += ", pc \(hex(site.pc))" }
      // si_addr means something for SIGSEGV and SIGBUS even when it is 0 (NULL).
      if site.address != 0 || (site.pc != 0 && ["SIGSEGV", "SIGBUS"].contains(site.signal)) {
        text += ", address \(hex(site.address))"
      }
      if !site.detail.isEmpty { text += ": \(site.detail)" }
      return text
    case .loaderCrash(let signal, let after, let detail):
      var text = "loader crash: \(Signals.name(signal))"
      if after { text += " after module code ran" }
      if !detail.isEmpty { text += ": \(detail)" }
      return text
    case .timeout(let seconds, let inModuleCode):
      return "timeout: killed after \(seconds) s"
        + (inModuleCode ? " in module code" : " in the loader")
    case .outOfMemory(let detail, let byModule):
      return "out of memory" + (byModule ? " in module code" : "") + ": \(detail)"
    }
  }
}
