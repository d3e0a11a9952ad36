import ELFObject
public import LKMInterface
public import ModuleLinker

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
  /// The files it was loaded from (modstat -v).
  var files: [String] = []
  /// Modules whose symbols this one uses, and modules that use this one.
  var dependencies: Set<Int32> = []
  var users: Set<Int32> = []
  init(
    id: Int32, linked: LoadedModule, record: TableRecord, entry: UInt64, name: String,
    exported: Bool
  ) {
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
  /// Modules whose load failed while threads they started still run: kept mapped, by id.
  var zombies: [Int32: LoadedModule] = [:]
  let hostSymbols: HostSymbolProvider?
  let kernelExports: [String: (address: UInt64, isFunction: Bool)]
  /// Whether the kernel has run faulting module code (Linux's "tainted").
  public internal(set) var tainted = false
  /// The module interface's request in progress (Kernel+Device.swift).
  var device = DeviceCall()
  /// Where module images go (reserved before any module runs); empty: anywhere.
  public let regions: [ModuleRegion]
  /// The cache of linked images module loads use (lkmd's default); nil: link every time.
  let imageCache: ImageCache?
  /// ``Options/debugging``.
  let debugging: Bool

  /// Makes guarded calls into module code record in `word` whether module code is running:
  /// 2 while it runs, 3 once the call is back (returned or faulted). The sandbox points it at
  /// memory its parent shares, to tell a module's crash from the loader's. Package, not public:
  /// the word comes from the sandbox's ReportFile (LKMSandbox) straight to the Bridge, the only
  /// two places that hold it.
  ///
  /// The corresponding C function is `clkm_set_phase_word`.
  package func recordPhases(in word: UnsafeMutablePointer<Int32>?) {
    unsafe Bridge.setPhaseWord(word)
  }

  public struct Options: Sendable {
    public var securelevel: Int32 = 0
    public var hostSymbols = false
    public var watchdogSeconds: UInt32 = 10
    public var hostname = "lkm"
    public var console = true
    /// The regions module images must be placed in (the kernel process reserves them before it
    /// installs its filters, see ``reserveRegions(hostSymbols:)``); empty: anywhere.
    public var regions: [ModuleRegion] = []
    /// Run timeouts (timeout(9)) in a callout thread at hz. The kernel process does; a kernel
    /// embedded in a process that must stay single-threaded (the sandbox's fork server) does
    /// not, and its timeouts never fire.
    public var callouts = false
    /// A cache of linked images for module loads (``ImageCache``): a module whose bytes,
    /// options and providers are unchanged maps its cached image. nil: link every time.
    public var cache: ImageCache?
    /// Make modules visible to debuggers and profilers (gdb's JIT interface, perf's map) and
    /// give oopses source lines (libdw, loaded at start). A kernel whose processes no debugger
    /// attaches to (the sandbox's children, one a run) does without: libdw and the three
    /// libraries it loads are 15 mappings more for each of the fork server's forks to copy.
    /// Oopses still name function+offset and unwind through the module's .eh_frame.
    public var debugging = true
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
    regions = options.regions
    imageCache = options.cache
    debugging = options.debugging
    // Oopses read source lines under a fault guard, after the filters: libdw is loaded now.
    if debugging { Kernel.loadLineReader() }
    if options.callouts {
      let error = Bridge.startTimeouts()
      guard error == 0 else { throw KernelErrno(error) }
    }
    if options.hostSymbols {
      hostSymbols = try? HostSymbolProvider()
    } else {
      hostSymbols = nil
    }
    installDeviceHooks()
  }

  /// The size of the memory a supervisor shares with the kernel (message buffer and status).
  public static var sharedAreaSize: Int { Bridge.sharedAreaSize }

  /// Keeps the message buffer and the status in `area`, memory shared with the supervisor
  /// (``sharedAreaSize`` bytes), so that they survive this process. Call before `init`.
  public static func attachShared(_ area: UnsafeMutableRawPointer) {
    unsafe Bridge.attachShared(area)
  }

  /// Reserves the address space module images may use, so that a filter keyed on the
  /// instruction pointer can tell module code from the kernel's: 1 GiB below 2 GiB (every
  /// module can go there: it reaches the kernel's data arena, and `-fno-pic` and
  /// `-mcmodel=kernel` objects must be there), and with host symbols 1 GiB within reach of the
  /// C library's data (default-PIE objects referring to `stdout` and the like).
  public static func reserveRegions(hostSymbols: Bool) throws(LinkError) -> [ModuleRegion] {
    var regions = [try ModuleRegion(reserving: 1 << 30, within: 0x10000...0x7fff_ffff)]
    if hostSymbols, let libc = Bridge.hostDataAddress {
      regions.append(try ModuleRegion(reserving: 1 << 30, near: libc))
    }
    return regions
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
    Bridge.setTime(Bridge.realtimeSeconds())
  }

  /// Writes to the message buffer and the console, as the kernel's printf does.
  public func log(_ text: String) { Bridge.log(text) }

  /// The message buffer's contents, oldest first.
  public func messageBuffer() -> String { Bridge.messageBuffer() }

  // MARK: Kernel threads

  /// Serves one request in the calling kernel thread: with the big kernel lock held (tsleep
  /// lets go of it while the request sleeps), as a request `token` that `Kernel.cancel(_:)`
  /// can cancel (given to `started` before the request runs).
  public func serve(
    _ request: Request, credentials: Credentials, started: (UInt64) -> Void = { _ in }
  ) -> Reply {
    Bridge.lock()
    defer { Bridge.unlock() }
    let token = Bridge.beginRequest()
    defer { Bridge.endRequest() }
    started(token)
    Bridge.setCredentials(credentials)
    if case .exit(let pid) = request {
      Bridge.exitProcess(pid)
      return Reply()
    }
    let error = Bridge.enterProcess(
      pid: credentials.pid, uid: credentials.uid, gid: credentials.gid, command: credentials.command
    )
    guard error == 0 else { return .failure(KernelErrno(error)) }
    defer { Bridge.leaveProcess() }
    return perform(request, credentials: credentials)
  }

  /// Cancels a request `serve` runs (from any thread): a sleep with PCATCH in it returns EINTR.
  public static func cancel(_ token: UInt64) { Bridge.cancelRequest(token) }

  /// Prepares the calling thread to run kernel code (its signal stack, its watchdog timer).
  public static func threadInit() { Bridge.threadInit() }

  /// Takes the big lock for good: the kernel is shutting down.
  public static func lockForShutdown() { Bridge.lock() }

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
