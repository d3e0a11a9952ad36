internal import CSandbox
import LKMBase
import LKMInterface

/// Runs modules in a sandboxed child process and judges what happened.
///
/// The child is `lkm-sandbox-child` (see ``SandboxChild``): a pre-initialised fork server that
/// forks one fresh child per module, or, without the fork server, a new process per module.
/// Each child runs under a seccomp filter, no_new_privs and resource limits with an empty
/// environment and only its report descriptors; the parent kills it with SIGKILL at the
/// wall-clock timeout. A `Sandbox` runs one module at a time: use one per thread.
public final class Sandbox {
  /// How children run.
  public struct Configuration: Sendable {
    /// Wall-clock seconds a child may run before SIGKILL (its CPU limit is this, rounded up).
    public var timeout: Double = 10
    /// Bytes of address space a child may add to what it has mapped at start (RLIMIT_AS).
    public var memory: UInt64 = 1 << 30
    /// One pre-initialised server forking each child (fast), or a new process per module.
    public var forkServer = true
    /// Also resolve modules against the host C library (lkmd --host-symbols).
    public var hostSymbols = false
    /// Binds each fork server, and so its children, to one CPU (servers of one process take
    /// the allowed CPUs in turn). A request, its child and the reply follow one another, never
    /// overlapping: on one CPU each fork skips the TLB shootdown to the CPU the server last ran
    /// on and each wake-up stays local. AFL binds its fuzzers to free cores for the same reason.
    public var bindsServerToCPU = true
    /// Runs the fork server as the init of a pid namespace of its own, so that a child can
    /// name no process of the user's by pid; without one (or where none can be made) each
    /// child installs a filter naming its own pid, about 60 µs a run.
    public var usesPIDNamespace = true
    /// The helper executable; default `$LKM_SANDBOX_CHILD`, else `lkm-sandbox-child` next to
    /// the running executable.
    public var helperPath: String?

    public init() {}
  }

  public let configuration: Configuration
  let helperPath: String
  private var server: HelperProcess?
  private let reportFile: MemoryFile
  private let stderrFile: MemoryFile
  /// Children run (for statistics).
  public private(set) var executions = 0
  /// The running fork server's pid, if one runs (for tests).
  var serverProcessID: Int32? { server?.pid }
  /// Fork servers started (more than one: a server died and was replaced).
  public private(set) var serversStarted = 0

  /// Prepares the sandbox; the helper starts with the first run.
  ///
  /// SIGPIPE becomes ignored in this process, so that writing to a helper that died is an
  /// error, not death.
  ///
  /// - Throws: ``SandboxError`` if the helper does not exist or a memory file cannot be made.
  public init(configuration: Configuration = Configuration()) throws(SandboxError) {
    self.configuration = configuration
    helperPath = configuration.helperPath ?? Sandbox.defaultHelperPath()
    if let errno = system_checkExecutable(helperPath) {
      throw SandboxError("cannot run '\(helperPath)'", errno: errno)
    }
    system_ignoreBrokenPipes()
    reportFile = try MemoryFile(name: "lkm-sandbox-report")
    stderrFile = try MemoryFile(name: "lkm-sandbox-stderr")
  }

  /// `$LKM_SANDBOX_CHILD`, else `lkm-sandbox-child` in the running executable's directory.
  public static func defaultHelperPath() -> String {
    if let path = system_environment("LKM_SANDBOX_CHILD") { return path }
    let exe = system_executablePath()
    let directory = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(
      separator: "/")
    return directory + "/lkm-sandbox-child"
  }

  var helperArguments: [String] {
    var arguments = [configuration.forkServer ? "--fork-server" : "--one-shot"]
    if configuration.forkServer { arguments += ["--timeout-ms", "\(timeoutMilliseconds)"] }
    if configuration.forkServer && !configuration.usesPIDNamespace {
      arguments.append("--no-namespace")
    }
    if configuration.forkServer && configuration.bindsServerToCPU {
      let cpu = lkmsb_next_server_cpu()
      if cpu >= 0 { arguments += ["--bind-cpu", "\(cpu)"] }
    }
    if configuration.hostSymbols { arguments.append("--host-symbols") }
    arguments += ["--memory", "\(configuration.memory)"]
    arguments += ["--cpu", "\(Int(configuration.timeout.rounded(.up)) + 1)"]
    return arguments
  }

  var timeoutMilliseconds: Int { max(1, Int(configuration.timeout * 1000)) }

  /// Runs `request` in a fresh sandboxed child and judges it.
  ///
  /// - Throws: ``SandboxError`` only when the sandbox itself cannot run (the helper cannot be
  ///   started twice in a row); whatever the module does is a verdict.
  public func run(_ request: SandboxRequest) throws(SandboxError) -> SandboxVerdict {
    executions += 1
    let payload = request.encoded()
    guard payload.count <= SandboxRequest.byteLimit else {
      return .rejected(
        code: "tooLarge", message: "request of \(payload.count) bytes is over the sandbox's limit")
    }
    return configuration.forkServer ? try runForked(payload) : try runOneShot(payload)
  }

  private func resetFiles() {
    // The report is read only as far as its header says: zeroing the header is enough.
    reportFile.zeroHeader(size: ReportFile.size, header: ReportFile.headerSize)
    stderrFile.reset(size: 0)
  }

  private func startServer() throws(SandboxError) -> HelperProcess {
    if let server { return server }
    let started = try HelperProcess(
      path: helperPath, arguments: helperArguments, stderrFile: stderrFile.fd,
      reportFile: reportFile.fd)
    serversStarted += 1
    server = started
    return started
  }

  /// How long past a child's timeout the fork server may take to answer before it is taken
  /// for hung (a bug of ours: nothing a module does reaches the server) and killed.
  static let serverGraceMilliseconds = 10_000

  private func runForked(_ payload: [UInt8]) throws(SandboxError) -> SandboxVerdict {
    for attempt in 0..<2 {
      let server = try startServer()
      resetFiles()
      // The server forks the child, kills it at the timeout and answers once it has been
      // reaped: whether it was killed at the timeout, its si_code and si_status.
      guard server.send(payload),
        HelperProcess.readable(
          server.replies, within: timeoutMilliseconds + Sandbox.serverGraceMilliseconds)
      else {
        // The server is gone (its own start failed, or it died between requests), or it hangs.
        server.child.kill()
        let detail = String(decoding: stderrFile.written(limit: 4096), as: UTF8.self)
        self.server = nil
        if attempt == 1 {
          throw SandboxError("the fork server died or did not answer: \(firstLine(detail))")
        }
        continue
      }
      guard let killed = server.readInt32(),
        let code = server.readInt32(), let status = server.readInt32()
      else {
        let detail = String(decoding: stderrFile.written(limit: 4096), as: UTF8.self)
        self.server = nil
        if attempt == 1 {
          throw SandboxError("the fork server died while a child ran: \(firstLine(detail))")
        }
        continue
      }
      // si_code: CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3.
      let termination: Termination = code == 1 ? .exited(status) : .signaled(status)
      return judge(termination, timedOut: killed == 1)
    }
    throw SandboxError("the fork server did not start")
  }

  private func runOneShot(_ payload: [UInt8]) throws(SandboxError) -> SandboxVerdict {
    resetFiles()
    let helper = try HelperProcess(
      path: helperPath, arguments: helperArguments, stderrFile: stderrFile.fd,
      reportFile: reportFile.fd)
    _ = helper.send(payload)
    helper.closeRequests()
    let (termination, timedOut) = helper.waitForExit(killAfter: timeoutMilliseconds)
    return judge(termination, timedOut: timedOut)
  }

  /// Reads the report file and the child's stderr, and judges.
  private func judge(_ termination: Termination, timedOut: Bool) -> SandboxVerdict {
    let header = reportFile.read(at: 0, count: ReportFile.headerSize)
    func word(_ i: Int) -> Int32 {
      guard header.count >= i + 4 else { return 0 }
      return loadLittleEndian(Int32.self, from: header, at: i)
    }
    let phase = word(0)
    var report: ChildReport?
    if phase == ReportFile.phaseDone {
      let length = Int(word(4))
      if length > 0 && length <= ReportFile.size - ReportFile.headerSize {
        report = try? ChildReport(
          decoding: reportFile.read(at: ReportFile.headerSize, count: length))
      }
    }
    let stderr = String(decoding: stderrFile.written(limit: 16 * 1024), as: UTF8.self)
    return Sandbox.classify(
      report: report, phase: phase, allocationFailed: word(8) != 0, termination: termination,
      timedOut: timedOut, stderr: stderr, timeout: configuration.timeout)
  }

  /// The verdict from what the parent saw. Pure, for tests.
  ///
  /// In order: killed at the timeout (or at the CPU limit) is a timeout; a written report is
  /// its verdict; a death after a failed allocation, or by a SIGKILL the parent did not send
  /// (the system's out-of-memory killer), is out of memory; a death while module code ran is
  /// a module fault (`SIGSYS`: the filter); any other death is a loader crash.
  static func classify(
    report: ChildReport?, phase: Int32, allocationFailed: Bool, termination: Termination,
    timedOut: Bool, stderr: String, timeout: Double
  ) -> SandboxVerdict {
    if timedOut || termination == .signaled(Signals.SIGXCPU) {
      return .timeout(seconds: timeout, inModuleCode: phase == ReportFile.phaseModule)
    }
    if let report, termination == .exited(0) {
      switch report {
      case .rejected(let code, let lines):
        return .rejected(code: code, message: lines.joined(separator: "; "))
      case .loaded(let load, let stat, let unload):
        return .loaded(load: load, stat: stat, unload: unload)
      case .moduleFault(let site):
        return .moduleFault(site)
      case .outOfMemory(let detail):
        return .outOfMemory(detail: detail, byModule: true)
      case .setupFailed(let detail):
        return .loaderCrash(
          signal: 0, afterModuleCode: false, detail: "sandbox setup failed: \(detail)")
      }
    }
    let line = firstLine(stderr)
    switch termination {
    case .signaled(let signal):
      if allocationFailed {
        return .outOfMemory(
          detail: "an allocation failed at the address-space limit, then \(Signals.name(signal))",
          byModule: phase == ReportFile.phaseModule)
      }
      if signal == Signals.SIGKILL {
        return .outOfMemory(
          detail: "killed by SIGKILL (the system's out-of-memory killer)",
          byModule: phase == ReportFile.phaseModule)
      }
      if phase == ReportFile.phaseModule {
        let detail = signal == Signals.SIGSYS ? "killed by the sandbox filter" : line
        return .moduleFault(
          ModuleFaultSite(
            signal: Signals.name(signal), place: nil, during: "module code", detail: detail))
      }
      return .loaderCrash(
        signal: signal, afterModuleCode: phase == ReportFile.phaseAfterModule,
        detail: signal == Signals.SIGSYS ? "killed by the sandbox filter" : line)
    case .exited(let status):
      if phase == ReportFile.phaseModule && !allocationFailed {
        // Module code called the C library's exit (a module linked against the host).
        return .moduleFault(
          ModuleFaultSite(
            signal: "exit", place: nil, during: "module code",
            detail: "module code ended the process with status \(status)"))
      }
      if allocationFailed {
        return .outOfMemory(
          detail: "an allocation failed at the address-space limit, then exit \(status)",
          byModule: phase == ReportFile.phaseModule)
      }
      return .loaderCrash(
        signal: 0, afterModuleCode: phase == ReportFile.phaseAfterModule,
        detail: "exited with status \(status) without a report" + (line.isEmpty ? "" : ": \(line)"))
    }
  }
}

func firstLine(_ text: String) -> String {
  // The kernel's panic line is the most telling; else the first line.
  let lines = text.split(separator: "\n")
  if let fatal = lines.first(where: { $0.contains("Fatal error") }) { return String(fatal) }
  if let panic = lines.first(where: { $0.contains("panic") }) { return String(panic) }
  return lines.first.map(String.init) ?? ""
}
