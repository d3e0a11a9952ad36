// The child's side of the sandbox: lkm-sandbox-child's whole logic. It forks (fork server),
// so it must stay single-threaded: nothing here starts a thread (no Dispatch, no async), and
// the server checks /proc/self/status before it forks at all.

internal import CSandbox
import ELFObject
import Glibc
import LKMBase
import LKMInterface
import LKMKernel
import LKMSandbox
import ModuleLinker

/// The sandboxed child: reads a request, enters the sandbox, links the module in an embedded
/// kernel (console off, no watchdog: the parent's timeout ends loops), runs its lifecycle and
/// writes a ``ChildReport`` to the shared report file.
///
/// Descriptors, set up by the parent (``Sandbox``): 0 requests, 1 replies (pids and wait
/// statuses, fork server only), 2 a memory file for stderr (the kernel's panic line lands
/// there), 3 the report file. A forked child closes 0 and 1 and everything above 3 before
/// it reads anything of the module.
///
/// Why a dedicated executable rather than forking the parent: `modfuzz`, `lkmd` and the test
/// runner are multi-threaded Swift processes, and a child forked from one inherits only the
/// forking thread, with any lock another thread held (malloc's, the runtime's metadata caches)
/// held forever. The parent therefore only posix_spawns this helper; the helper itself never
/// starts a thread, so its fork server's forks are safe.
public enum SandboxChild {
  /// Options from the command line.
  struct Options {
    var forkServer = false
    var hostSymbols = false
    var memory: UInt64 = 1 << 30
    var cpuSeconds: UInt64 = 10
    /// The CPU the fork server binds itself (and so its children) to; nil: no binding.
    var cpu: Int32?
    /// The wall-clock time a fork server's child may run before the server kills it.
    var timeoutMilliseconds: Int32 = 10_000
    /// Whether the fork server tries to become the init of a pid namespace.
    var namespace = true
  }

  /// The helper's main. `watchAllocations` points the allocation forwarders (which live in the
  /// helper executable alone) at the shared out-of-memory word.
  public static func main(
    arguments: [String], watchAllocations: (UnsafeMutablePointer<Int32>) -> Void
  ) -> Never {
    lkmsb_close_from(4)
    var options = Options()
    var i = 1
    while i < arguments.count {
      switch arguments[i] {
      case "--fork-server": options.forkServer = true
      case "--one-shot": options.forkServer = false
      case "--host-symbols": options.hostSymbols = true
      case "--memory" where i + 1 < arguments.count:
        i += 1
        options.memory = UInt64(arguments[i]) ?? options.memory
      case "--no-namespace": options.namespace = false
      case "--timeout-ms" where i + 1 < arguments.count:
        i += 1
        options.timeoutMilliseconds = max(1, Int32(arguments[i]) ?? options.timeoutMilliseconds)
      case "--bind-cpu" where i + 1 < arguments.count:
        i += 1
        options.cpu = Int32(arguments[i])
      case "--cpu" where i + 1 < arguments.count:
        i += 1
        options.cpuSeconds = UInt64(arguments[i]) ?? options.cpuSeconds
      default:
        fail("lkm-sandbox-child: unknown argument '\(arguments[i])'")
      }
      i += 1
    }
    var inNamespace = false
    if options.forkServer {
      // Bound first, so that the warm-up's pages come from that CPU's node and caches. Only a
      // cost if it fails (a CPU gone offline, a narrower cpuset): no error.
      if let cpu = options.cpu { _ = lkmsb_bind_to_cpu(cpu) }
      // The namespace before anything else runs: Synchronization's Mutex caches the thread's
      // id per thread, and the server's id changes in the namespace (a lock taken with the old
      // id cached and released with the new one is a fatal error).
      let threads = lkmsb_thread_count()
      if options.namespace && threads == 1 {
        let namespace = lkmsb_enter_pid_namespace()
        guard namespace >= 0 else {
          fail(unsafe "lkm-sandbox-child: fork: \(String(cString: strerror(-namespace)))")
        }
        inNamespace = namespace == 1
      }
    }
    // Root no longer (after the namespace, which needs it): a module run by root's modfuzz or
    // lkmd would otherwise hold every capability the filter does not deny.
    let dropped = lkmsb_drop_root()
    guard dropped >= 0 else {
      fail(unsafe "lkm-sandbox-child: cannot give up root: \(String(cString: strerror(-dropped)))")
    }
    guard let mapping = ReportMapping(fd: 3) else {
      fail("lkm-sandbox-child: descriptor 3 is not a report file")
    }
    unsafe watchAllocations(mapping.outOfMemoryWord)
    guard let filter = unsafe lkmsb_filter_new() else {
      fail(
        unsafe "lkm-sandbox-child: cannot build the seccomp filter: \(String(cString: strerror(errno)))"
      )
    }
    var kernelOptions = Kernel.Options()
    kernelOptions.console = false
    kernelOptions.watchdogSeconds = 0
    // No debugger attaches to a child: no gdb or perf registration, no libdw (source lines).
    kernelOptions.debugging = false
    kernelOptions.hostSymbols = options.hostSymbols
    kernelOptions.hostname = "sandbox"
    let kernel: Kernel
    do { kernel = try Kernel(options: kernelOptions) } catch {
      fail("lkm-sandbox-child: cannot start the kernel: \(error.text)")
    }
    unsafe kernel.recordPhases(in: mapping.phaseWord)
    let child = unsafe Runner(kernel: kernel, mapping: mapping, filter: filter, options: options)
    if options.forkServer {
      child.serve(inNamespace: inNamespace)
    } else {
      guard let request = readFrame(0) else { fail("lkm-sandbox-child: no request") }
      child.runInChild(request)
    }
  }

  static func fail(_ message: String) -> Never {
    let line = message + "\n"
    _ = unsafe line.withCString { unsafe Glibc.write(2, $0, strlen($0)) }
    _exit(70)
  }

  /// Reads one frame (`UInt32` length, then the bytes); nil at end of file.
  static func readFrame(_ fd: Int32) -> [UInt8]? {
    guard let header = system_readExactly(fd, 4) else { return nil }
    let count = Frame.length(header: header)
    guard count <= SandboxRequest.byteLimit + 4096 else { return nil }
    return system_readExactly(fd, count)
  }

}

/// One helper process's state: the kernel it started and the compiled filter.
@safe struct Runner {
  let kernel: Kernel
  let mapping: ReportMapping
  let filter: OpaquePointer
  let options: SandboxChild.Options
  /// The server's address-space size, measured after the warm-up (nil: measure in the child).
  var addressSpaceAtFork: UInt64?
  /// Whether each child installs the pid filter itself (``lkmsb_confine_to_self``): a one-shot
  /// helper, or a fork server that could not make a pid namespace. A filter attached per
  /// child costs about 60 µs on the benchmarks' VM (the kernel compiles it each time), a
  /// tenth of a sandboxed run; in a namespace the server's one filter does instead.
  var confinesEachChild = true

  /// The fork server: one fresh child per request, which it waits for and, past
  /// `--timeout-ms`, kills (SIGKILL). Replies on descriptor 1, once the child has ended and
  /// been reaped: 1 if it was killed at the timeout (else 0), its `si_code` and `si_status`
  /// (`Int32` each).
  ///
  /// `inNamespace`: ``SandboxChild/main`` made the server the init of a new pid namespace: a
  /// child can then name by pid only itself (nothing else of the user's is in there) and,
  /// through the filter the server installs once, never the server (pid 1). Otherwise each
  /// child installs a filter naming its own pid.
  func serve(inNamespace: Bool) -> Never {
    let threads = lkmsb_thread_count()
    guard threads == 1 else {
      SandboxChild.fail("lkm-sandbox-child: \(threads) threads: refusing to fork")
    }
    var server = self
    server.confinesEachChild = !inNamespace
    warmUp()
    // The code on huge pages: a fork copies a few entries for it instead of each child
    // faulting in again every page of code it runs. Only a cost if it fails: no error.
    _ = lkmsb_code_on_huge_pages()
    // The warm-up's freed heap back to the system: fewer pages for each fork to copy.
    lkmsb_trim_heap()
    server.addressSpaceAtFork = lkmsb_address_space_size()
    // No file from here on: the server reads its requests from a pipe and the children need
    // none (the last file the server reads is /proc/self/statm, just above).
    let forbidden = lkmsb_forbid_files()
    if forbidden < 0 {
      SandboxChild.fail(
        unsafe "lkm-sandbox-child: cannot restrict files: \(String(cString: strerror(-forbidden)))")
    }
    // The filter once, here: the children inherit it (installing it per child compiled it
    // again each time); their limits are set in each (RLIMIT_CPU counts per process).
    var rc = unsafe lkmsb_filter_self(filter)
    if rc == 0 && !server.confinesEachChild { rc = lkmsb_protect_namespace_init() }
    if rc != 0 {
      SandboxChild.fail(
        unsafe "lkm-sandbox-child: cannot install the filter: \(String(cString: strerror(-rc)))")
    }
    while true {
      guard let request = SandboxChild.readFrame(0) else { _exit(0) }
      let pid = fork()
      if pid < 0 {
        SandboxChild.fail(unsafe "lkm-sandbox-child: fork: \(String(cString: strerror(errno)))")
      }
      if pid == 0 {
        close(0)
        close(1)
        server.runInChild(request)
      }
      var code: Int32 = 0
      var status: Int32 = 0
      let waited = unsafe lkmsb_wait_child(pid, options.timeoutMilliseconds, &code, &status)
      if waited < 0 {
        SandboxChild.fail(
          unsafe "lkm-sandbox-child: waiting for \(pid): \(String(cString: strerror(-waited)))")
      }
      var reply = WireWriter()
      reply.int(waited)
      reply.int(code)
      reply.int(status)
      guard system_writeAll(1, reply.bytes) else { _exit(0) }
    }
  }

  /// Runs the built-in ``WarmModule`` through a child's whole path twice, in each mode (the
  /// request decoded, linked, loaded, stat'ed and unloaded, the report encoded), so that each
  /// child starts with the caches and the pages that path fills. The module is unloaded again:
  /// the kernel's modules and ids are as before.
  func warmUp() {
    let inputs = [LoadRequest.Input(name: "warm.o", bytes: WarmModule.bytes)]
    for _ in 0..<2 {
      for mode in [SandboxRequest.Mode.linkOnly, .lifecycle] {
        let frame = SandboxRequest(inputs: inputs, entry: WarmModule.entry, mode: mode).encoded()
        guard let request = try? SandboxRequest(decoding: frame) else { continue }
        _ = run(request).encoded()
      }
    }
  }

  /// In the child: enter the sandbox, run the request, write the report, exit. In a fork
  /// server's child the filter is already there (inherited); the limits are set here.
  func runInChild(_ frame: [UInt8]) -> Never {
    mapping.setPhase(ReportFile.phaseLoader)
    var limits = lkmsb_limits_t()
    // A fork server's child starts with the server's mappings: measured once, there.
    limits.address_space = (addressSpaceAtFork ?? lkmsb_address_space_size()) + options.memory
    limits.cpu_seconds = options.cpuSeconds
    limits.file_size = 1 << 20
    limits.open_files = 32
    limits.processes = 1
    var rc = unsafe options.forkServer ? lkmsb_limit_self(&limits) : lkmsb_enter(filter, &limits)
    // Calls that name a process by pid may name only this child (its pid is known only now,
    // after the fork), unless the fork server's namespace does it: a module that shares the
    // user's uid could otherwise signal, or lower the limits of, every process of that user,
    // lkmd's supervisor included.
    if rc == 0 && confinesEachChild { rc = lkmsb_confine_to_self(0, 0) }
    // A one-shot helper forbids itself files here (a fork server did before it served).
    if rc == 0 && !options.forkServer { rc = min(0, lkmsb_forbid_files()) }
    guard rc == 0 else {
      mapping.write(
        .setupFailed(unsafe "cannot enter the sandbox: \(String(cString: strerror(-rc)))"))
      _exit(0)
    }
    let report: ChildReport
    do {
      report = run(try SandboxRequest(decoding: frame))
    } catch {
      report = .setupFailed("malformed request: \(error.description)")
    }
    mapping.write(report)
    _exit(0)
  }

  func run(_ request: SandboxRequest) -> ChildReport {
    var load = LoadRequest(inputs: request.inputs, entry: request.entry)
    load.exportSymbols = false
    let outcome = request.mode == .linkOnly ? kernel.linkOnly(load) : kernel.load(load)
    switch outcome {
    case .linkFailed(let error):
      return .rejected(code: error.code.rawValue, lines: error.lines)
    case .refused(let refusal):
      if let oops = refusal.oops { return faultReport(oops) }
      return .loaded(load: refusal.errno.rawValue, stat: nil, unload: nil)
    case .loaded(let result):
      if request.mode == .linkOnly { return .loaded(load: 0, stat: nil, unload: nil) }
      var stat: Int32 = 0
      if case .failure(let refusal) = kernel.stat(id: result.id, name: nil) {
        if let oops = refusal.oops { return faultReport(oops) }
        stat = refusal.errno.rawValue
      }
      var unload: Int32 = 0
      if case .failure(let refusal) = kernel.unload(id: result.id, name: nil) {
        if let oops = refusal.oops { return faultReport(oops) }
        unload = refusal.errno.rawValue
      }
      return .loaded(load: 0, stat: stat, unload: unload)
    }
  }

  func faultReport(_ oops: Kernel.Oops) -> ChildReport {
    let f = oops.fault
    switch f.kind {
    case .panic:
      if f.message.contains("out of memory") {
        return .outOfMemory(
          "the module's malloc(9) failed during \(oops.during): panic: \(f.message)")
      }
      return .moduleFault(
        ModuleFaultSite(
          signal: "panic", place: oops.place, during: oops.during, pc: f.pc, detail: f.message))
    case .watchdog:
      return .moduleFault(
        ModuleFaultSite(signal: "watchdog", place: oops.place, during: oops.during, pc: f.pc))
    case .signal:
      return .moduleFault(
        ModuleFaultSite(
          signal: oops.signalName ?? Signals.name(f.signal), place: oops.place, during: oops.during,
          pc: f.pc, address: f.address))
    }
  }
}
