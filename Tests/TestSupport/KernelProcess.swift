public import Foundation
import Glibc
public import Testing

/// An lkmd on a device in its own temporary directory, its console collected, and the tools
/// run against it: the one lkmd fixture of the tests.
public final class KernelProcess: @unchecked Sendable {
  public let directory: String
  public let device: String
  private let lkmd: ToolProcess
  private var stopped = false

  /// The lkmd process.
  public var process: Process { lkmd.process }

  /// Starts `lkmd --device DEVICE ARGUMENTS` (DEVICE: `device`, else DIR/dev/lkm in a new
  /// temporary directory) and waits for its ready line.
  ///
  /// lkmd inherits the spawning thread's signal mask, and the worker threads tests run on
  /// block SIGALRM and SIGTERM; lkmd is started with an empty mask unless `blocking` names
  /// signals to leave blocked (the test that lkmd unblocks what it needs). `extra` is added to
  /// (a nil value: removed from) lkmd's environment.
  public init(
    _ arguments: [String] = [], blocking: [Int32] = [], device: String? = nil,
    environment extra: [String: String?] = [:]
  ) throws {
    directory = try TestSupport.temporaryDirectory("lkmd")
    self.device = device ?? directory + "/dev/lkm"
    var environment = ProcessInfo.processInfo.environment
    environment["LKM_DEVICE"] = nil
    for (key, value) in extra { environment[key] = value }
    lkmd = try ToolProcess(
      TestSupport.product("lkmd"), ["--device", self.device] + arguments,
      environment: environment, blocking: blocking)
    let ready = "lkmd: ready on \(self.device)\n"
    let deadline = Date().addingTimeInterval(20)
    while !console.hasPrefix(ready) {
      guard process.isRunning, Date() < deadline else {
        if process.isRunning { process.terminate() }
        throw TestSupport.Failure(
          "lkmd did not become ready:\n\(console)\nstderr: \(standardError)")
      }
      usleep(5_000)
    }
  }

  /// Stops lkmd if the test did not (SIGTERM, then SIGKILL after ten seconds) and removes the
  /// directory.
  deinit {
    stop()
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Everything lkmd printed on stdout (the ready line, then the kernel console).
  public var console: String { lkmd.standardOutput }

  /// The console once it ends with `suffix` (lkmd writes it before replying, but the pipe to
  /// the test is read asynchronously), or as it is after five seconds.
  public func console(endingWith suffix: String) -> String {
    let deadline = Date().addingTimeInterval(5)
    while !console.hasSuffix(suffix) && Date() < deadline { usleep(2_000) }
    return console
  }

  /// What lkmd printed on stderr.
  public var standardError: String { lkmd.standardError }

  /// The tools' environment: this kernel's device, and the built tools first in PATH (for
  /// postinstall scripts).
  public var environment: [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["LKM_DEVICE"] = device
    environment["PATH"] =
      TestSupport.productsDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
    return environment
  }

  /// Starts a tool (`modload`, `lkmctl`, …) against this kernel, through $LKM_DEVICE.
  public func start(_ tool: String, _ arguments: [String]) throws -> ToolProcess {
    try ToolProcess(TestSupport.product(tool), arguments, environment: environment)
  }

  /// Runs a tool against this kernel and waits for it (a minute at most).
  public func run(_ tool: String, _ arguments: String...) throws -> ToolProcess.Result {
    try start(tool, arguments).wait()
  }

  public func run(_ tool: String, _ arguments: [String]) throws -> ToolProcess.Result {
    try start(tool, arguments).wait()
  }

  /// Runs a tool that must succeed (exit 0, nothing on stderr); its stdout.
  @discardableResult
  public func ok(_ tool: String, _ arguments: String...) throws -> String {
    let result = try run(tool, arguments)
    guard result.status == 0, !result.signaled, result.stderr.isEmpty else {
      throw TestSupport.Failure("\(tool) \(arguments.joined(separator: " ")): \(result)")
    }
    return result.stdout
  }

  /// `lkmctl dmesg`'s output (which must succeed).
  public func dmesg() throws -> String {
    let result = try run("lkmctl", "dmesg")
    guard result.status == 0 else { throw TestSupport.Failure("lkmctl dmesg failed: \(result)") }
    return result.stdout
  }

  /// `modstat`'s output (which must succeed).
  public func modstat(_ arguments: String...) throws -> String {
    let result = try run("modstat", arguments)
    guard result.status == 0, result.stderr.isEmpty else {
      throw TestSupport.Failure("modstat failed: \(result)")
    }
    return result.stdout
  }

  /// A file in the kernel's temporary directory, with `contents`; its path.
  public func file(_ name: String, _ contents: String) throws -> String {
    let path = directory + "/" + name
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The kernel process lkmd started: its child `lkm-kernel` (host mounts' servers, `lkm-mount`,
  /// are children too).
  public func kernelPID() throws -> Int32 {
    let lkmd = process.processIdentifier
    let children =
      (try? String(contentsOfFile: "/proc/\(lkmd)/task/\(lkmd)/children", encoding: .utf8)) ?? ""
    // Not a host mount's server (a child just forked, not yet lkm-kernel by name, is the kernel).
    let kernel = children.split(separator: " ").compactMap { Int32($0) }.first { pid in
      !((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "")
        .hasPrefix("lkm-mount")
    }
    guard let kernel else {
      throw TestSupport.Failure("no kernel process under lkmd \(lkmd): '\(children)'")
    }
    return kernel
  }

  /// Sends SIGTERM and waits for lkmd to exit; returns how it exited and its whole console.
  @discardableResult
  public func stop() -> (status: Int32, signaled: Bool, console: String) {
    if !stopped {
      stopped = true
      kill(process.processIdentifier, SIGTERM)
      let deadline = Date().addingTimeInterval(10)
      while process.isRunning && Date() < deadline { usleep(5_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      _ = lkmd.waitForOutput(timeout: 5)
    }
    return (process.terminationStatus, process.terminationReason == .uncaughtSignal, console)
  }
}

/// Runs `body` against a fresh lkmd, then stops it with SIGTERM and expects exit status 0.
public func withKernel(
  _ arguments: [String] = [], environment: [String: String?] = [:],
  sourceLocation: SourceLocation = #_sourceLocation, _ body: (KernelProcess) throws -> Void
) throws {
  let kernel = try KernelProcess(arguments, environment: environment)
  defer {
    let end = kernel.stop()
    #expect(
      end.status == 0 && !end.signaled,
      "lkmd exited with \(end.status)\(end.signaled ? " (signal)" : "")\nstderr: \(kernel.standardError)",
      sourceLocation: sourceLocation)
  }
  try body(kernel)
}

/// Expects a run to have exactly this status, stdout and stderr.
public func expectRun(
  _ run: ToolProcess.Result, _ status: Int32, stdout: String = "", stderr: String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    run.outcome == Outcome(status: status, stdout: stdout, stderr: stderr),
    sourceLocation: sourceLocation)
}

/// The line a tool prints after a failure because module code faulted (the reply says an oops
/// was written).
public func oopsHint(_ tool: String) -> String { "\(tool): see lkmctl dmesg for the oops\n" }

/// The text of `lkmctl syscall N` when the slot is free.
public func notImplemented(_ number: Int) -> String {
  "lkmctl: syscall \(number): Function not implemented\n"
}

/// Replaces the number in "DDB symbols added: N bytes" (it counts the compiler's symbols).
public func maskSymbolBytes(_ text: String) -> String {
  text.replacing(#/DDB symbols added: [0-9]+ bytes/#, with: "DDB symbols added: N bytes")
}
