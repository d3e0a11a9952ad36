public import ELFObject
public import ModuleLinker

internal import Glibc

/// Who is asking: the peer of a device session (`SO_PEERCRED`).
public struct Credentials: Sendable {
  public var pid: Int32
  public var uid: UInt32
  public var gid: UInt32
  public var command: String
  public init(pid: Int32, uid: UInt32, gid: UInt32, command: String) {
    self.pid = pid
    self.uid = uid
    self.gid = gid
    self.command = command
  }
}

/// A load: the objects (and archives) that make one module, its entry, and how.
public struct LoadRequest: Sendable {
  public struct Input: Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) {
      self.name = name
      self.bytes = bytes
    }
  }
  public var inputs: [Input]
  /// The entry function's name (modload chooses it: -e, xxxinit, or BASENAME_lkmentry).
  public var entry: String
  /// `-s` off: the module's globals join the kernel symbol table.
  public var exportSymbols = true
  /// `-n`: link completely, then discard without calling the entry.
  public var checkOnly = false
  /// The version passed to the entry: `LKM_VERSION` (2), or 1 for the old-style retry.
  public var version: Int32 = 2
  public init(inputs: [Input], entry: String) {
    self.inputs = inputs
    self.entry = entry
  }
}

/// What a load gives back.
public enum LoadOutcome: Sendable {
  /// Loaded as this id (or, for a check, linked; id -1). The placements serve modload -o.
  case loaded(id: Int32, placements: [SectionPlacement], entry: UInt64, warnings: [String] = [])
  /// The link failed (modload's exit 1, as ld failing was): one line per problem.
  case linkFailed([String])
  /// The kernel refused: the LMREADY errno (the module's own error, EEXIST, ENFILE, …).
  case refused(KernelErrno)
}

/// One row of modstat.
public struct ModuleStatus: Sendable, Equatable {
  public var id: Int32
  public var name: String
  public var type: Int32
  public var offset: Int64
  public var area: UInt64
  /// Size in pages (bytes / 4096, truncating).
  public var pages: UInt64
  public var privateAddress: UInt64
  public var version: Int32
  public var faulted: Bool
  /// The modules that use this one (modstat -v).
  public var users: [String] = []

  public init(
    id: Int32, name: String, type: Int32, offset: Int64, area: UInt64, pages: UInt64,
    privateAddress: UInt64, version: Int32, faulted: Bool
  ) {
    self.id = id
    self.name = name
    self.type = type
    self.offset = offset
    self.area = area
    self.pages = pages
    self.privateAddress = privateAddress
    self.version = version
    self.faulted = faulted
  }
}

/// A symbol of the kernel symbol table, for `lkmctl ksyms`.
public struct KernelSymbol: Sendable {
  public var address: UInt64
  /// `T` text, `D` data, `t`/`d` local
  public var type: Character
  public var name: String
  /// The module that defines it, or nil for the kernel itself.
  public var module: String?

  public init(address: UInt64, type: Character, name: String, module: String?) {
    self.address = address
    self.type = type
    self.name = name
    self.module = module
  }
}

/// A loaded module as the kernel keeps it.
final class KernelModule {
  let id: Int32
  let linked: LoadedModule
  let record: TableRecord
  let entry: UInt64
  let name: String
  let exported: Bool
  var faulted = false
  var entryName = ""
  /// Modules whose symbols this one uses, and modules that use this one.
  var dependencies: Set<Int32> = []
  var users: Set<Int32> = []
  init(id: Int32, linked: LoadedModule, record: TableRecord, entry: UInt64, name: String, exported: Bool) {
    self.id = id
    self.linked = linked
    self.record = record
    self.entry = entry
    self.name = name
    self.exported = exported
  }
}

/// The kernel: module table, the lifecycle through each module's entry, the exported symbol
/// table, system calls, securelevel and the message buffer.
///
/// The corresponding OpenBSD code is `sys/kern/kern_lkm.c`; here the kernel links modules
/// itself, so one load request replaces LMRESERV, LMLOADBUF, LMLOADSYMS and LMREADY.
public final class Kernel: @unchecked Sendable {
  /// Loaded modules by id.
  var modules: [Int32: KernelModule] = [:]
  /// Ids in load order (for shutdown).
  var loadOrder: [Int32] = []
  let hostSymbols: HostSymbolProvider?
  let kernelExports: [String: (address: UInt64, isFunction: Bool)]
  /// Whether the kernel has run faulting module code (Linux's "tainted").
  public internal(set) var tainted = false
  /// The kernel's /dev: device nodes by name (see Kernel+Devices.swift).
  var deviceNodes: [String: DeviceNode] = DeviceNode.builtIn

  /// The last oops written, as data (the sandbox reports it to its parent).
  public internal(set) var lastOops: Oops?
  /// Why the last load that failed to link failed, with its code (the sandbox reports it).
  public internal(set) var lastLinkError: LinkError?

  /// A fault in module code, as the oops in the message buffer tells it.
  public struct Oops: Sendable {
    public var fault: ModuleFault
    /// The module's name (its file name while it loads).
    public var module: String
    /// `function+0xoffset` of the faulting instruction in the module, when known.
    public var place: String?
    /// What the kernel was doing: `LKM_E_LOAD`, `constructor`, `system call 210`, …
    public var during: String
    /// `SIGSEGV`, … (signals), or nil for a panic or the watchdog.
    public var signalName: String?
  }

  /// Makes guarded calls into module code record in `word` whether module code is running:
  /// 2 while it runs, 3 once the call is back (returned or faulted). The sandbox points it at
  /// memory its parent shares, to tell a module's crash from the loader's.
  ///
  /// The corresponding C function is `clkm_set_phase_word`.
  public func recordPhases(in word: UnsafeMutablePointer<Int32>?) { Bridge.setPhaseWord(word) }

  public struct Options: Sendable {
    public var securelevel: Int32 = 0
    public var hostSymbols = false
    public var watchdogSeconds: UInt32 = 10
    public var hostname = "lkm"
    public var console = true
    public init() {}
  }

  /// Starts the kernel: maps its data, installs its fault handlers.
  ///
  /// - Precondition: one kernel per process.
  public init(options: Options) throws(KernelErrno) {
    let version = "lkm 1.0 (user-space OpenBSD LKM) #0: x86_64"
    let status = Bridge.initialise(
      version: version, hostname: options.hostname, securelevel: options.securelevel)
    guard status == 0 else { throw KernelErrno(status) }
    Bridge.setWatchdog(options.watchdogSeconds)
    Bridge.setConsole(options.console)
    var exports: [String: (UInt64, Bool)] = [:]
    for e in Bridge.exports { exports[e.name] = (e.address, e.isFunction) }
    kernelExports = exports
    if options.hostSymbols {
      hostSymbols = try? HostSymbolProvider()
    } else {
      hostSymbols = nil
    }
  }

  // MARK: Variables

  public var securelevel: Int32 { Bridge.securelevel }

  /// Raises securelevel; it can never be lowered while the kernel runs (EPERM).
  public func setSecurelevel(_ level: Int32) throws(KernelErrno) {
    guard level >= Bridge.securelevel else { throw .EPERM }
    Bridge.securelevel = level
  }

  public var hostname: String {
    get { Bridge.hostname }
    set { Bridge.hostname = newValue }
  }

  public var version: String { Bridge.version }

  /// Updates `time_second` (done before each request).
  public func tick() {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    Bridge.setTime(Int64(ts.tv_sec))
  }

  /// Writes to the message buffer and the console, as the kernel's printf does.
  public func log(_ text: String) { Bridge.log(text) }

  /// The message buffer's contents, oldest first.
  public func messageBuffer() -> String { Bridge.messageBuffer() }

  // MARK: Lookup

  /// The module a lookup names, with OpenBSD's rules and errnos, in order: an empty list or an
  /// id past the highest is EINVAL (by name too); a name of 31 or more characters is
  /// ENAMETOOLONG; no match is ENOENT.
  func lookup(id: Int32, name: String?) throws(KernelErrno) -> KernelModule {
    guard let highest = modules.keys.max(), id <= highest else { throw .EINVAL }
    if id < 0 {
      guard let name else { throw .EINVAL }
      guard name.utf8.count <= 30 else { throw .ENAMETOOLONG }
      guard let module = modules.values.first(where: { $0.name == name }) else { throw .ENOENT }
      return module
    }
    guard let module = modules[id] else { throw .ENOENT }
    return module
  }

  /// The loaded modules' ids, ascending.
  public var moduleIDs: [Int32] { modules.keys.sorted() }
}
