public import Foundation
import Glibc

/// The outcome of a tool run, compared as a whole so that a failure shows all of it.
public struct Outcome: Equatable, CustomStringConvertible, Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
  public init(status: Int32, stdout: String, stderr: String) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
  }
  public var description: String {
    "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)---"
  }
}

/// A started process whose output is collected; ``wait(timeout:)`` gives its ``Result``. The
/// one process runner of the tests: ``TestSupport/run(_:_:input:environment:directory:)``,
/// ``KernelProcess`` and its tools all start processes through it.
public final class ToolProcess: @unchecked Sendable {
  /// A finished run.
  public struct Result: Sendable, CustomStringConvertible {
    /// The exit status, or the signal's number when `signaled`.
    public var status: Int32
    /// Whether the process was killed by a signal (then `status` is the signal number).
    public var signaled: Bool
    public var stdout: String
    public var stderr: String
    public var pid: Int32
    /// From start to exit.
    public var seconds: Double
    /// Status (128 + the signal's number when signaled), stdout and stderr.
    public var outcome: Outcome {
      Outcome(status: signaled ? 128 + status : status, stdout: stdout, stderr: stderr)
    }
    public var description: String {
      (signaled ? "killed by signal \(status)\n" : "") + outcome.description
    }
  }

  public let process = Process()
  private let group = DispatchGroup()
  private let lock = NSLock()
  private var out = Data()
  private var err = Data()
  public let started = Date()

  /// Starts `executable`. `input` is written to its standard input (else it reads /dev/null);
  /// `environment` nil inherits the test's; `directory` nil runs it in the test's directory.
  /// With `blocking`, the process starts with exactly those signals blocked (`[]`: none), not
  /// with the mask of the thread that starts it: the threads tests run on block SIGALRM and
  /// SIGTERM, and a child inherits the mask.
  public init(
    _ executable: String, _ arguments: [String], input: String? = nil,
    environment: [String: String]? = nil, directory: String? = nil, blocking: [Int32]? = nil
  ) throws {
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let outPipe = Pipe()
    let errPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    let inPipe = input.map { _ in Pipe() }
    process.standardInput = inPipe ?? FileHandle.nullDevice
    if let blocking {
      var mask = sigset_t()
      var saved = sigset_t()
      unsafe sigemptyset(&mask)
      for signal in blocking { unsafe sigaddset(&mask, signal) }
      unsafe pthread_sigmask(SIG_SETMASK, &mask, &saved)
      defer { unsafe pthread_sigmask(SIG_SETMASK, &saved, nil) }
      try process.run()
    } else {
      try process.run()
    }
    // Read both pipes concurrently, as the output comes, so that neither fills and what a
    // long-running process (lkmd) printed so far can be read.
    for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
      group.enter()
      DispatchQueue.global().async {
        let handle = pipe.fileHandleForReading
        while true {
          let data = handle.availableData
          if data.isEmpty { break }
          self.lock.lock()
          if isOut { self.out.append(data) } else { self.err.append(data) }
          self.lock.unlock()
        }
        self.group.leave()
      }
    }
    if let inPipe, let input {
      inPipe.fileHandleForWriting.write(Data(input.utf8))
      try? inPipe.fileHandleForWriting.close()
    }
  }

  public var isRunning: Bool { process.isRunning }

  /// What the process has written to stdout so far.
  public var standardOutput: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: out, as: UTF8.self)
  }

  /// What the process has written to stderr so far.
  public var standardError: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: err, as: UTF8.self)
  }

  /// Waits at most `timeout` seconds for the process to have closed its output (after it
  /// exited); whether it did.
  public func waitForOutput(timeout: Double) -> Bool {
    group.wait(timeout: .now() + timeout) == .success
  }

  /// Waits for the process; one still running after `timeout` seconds is killed (SIGKILL) and
  /// the run says so on its stderr. A nil timeout waits as long as it takes.
  public func wait(timeout: Double? = 60) -> Result {
    if let timeout {
      let deadline = Date().addingTimeInterval(timeout)
      while process.isRunning && Date() < deadline { usleep(2_000) }
    }
    let timedOut = process.isRunning && timeout != nil
    if timedOut { kill(process.processIdentifier, SIGKILL) }
    group.wait()
    process.waitUntilExit()
    lock.lock()
    defer { lock.unlock() }
    return Result(
      status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
      stdout: String(decoding: out, as: UTF8.self),
      stderr: String(decoding: err, as: UTF8.self)
        + (timedOut ? "[killed after \(timeout!) s]\n" : ""),
      pid: process.processIdentifier, seconds: Date().timeIntervalSince(started))
  }
}
