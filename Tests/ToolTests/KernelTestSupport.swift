import Foundation
import Glibc
import TestSupport
import Testing

// What the kernel end-to-end tests share: the example modules compiled once per run, an lkmd
// on a temporary device, the tools run against it, modstat parsing, and a raw device client.

/// The modules under Fixtures/lkm, compiled with gcc on first use into one temporary directory
/// (`cc -c -D_KERNEL -I Sources/CLKM/kernel/include`, as a module author compiles them).
enum KernelFixtures {
  static let include = TestSupport.packageRoot + "/Sources/CLKM/kernel/include"
  static let lock = NSLock()
  nonisolated(unsafe) static var directory: String?
  nonisolated(unsafe) static var built: [String: String] = [:]

  /// Compiles `Fixtures/lkm/<source>` to `<name>.o` (defaults to the source's base name), with
  /// `flags` added to the command (`-fPIC`, …).
  static func object(
    _ source: String, as name: String? = nil, defines: [String] = [], flags: [String] = []
  ) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    let base = name ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
    if let path = built[base] { return path }
    let dir = try outputDirectory()
    let output = "\(dir)/\(base).o"
    let flags = (defines.map { "-D\($0)" } + flags).map { "'\($0)'" }.joined(separator: " ")
    try TestSupport.shell(
      "gcc -c -D_KERNEL \(flags) -I '\(include)' '\(TestSupport.fixture("lkm/" + source))' -o '\(output)'"
    )
    built[base] = output
    return output
  }

  /// The newsyscall example as OpenBSD's Makefile builds it: both objects `ld -r`'d into
  /// combined.o.
  static func newsyscall() throws -> String {
    let first = try object("newsyscall/newsyscall.c")
    let second = try object("newsyscall/mycall.c")
    lock.lock()
    defer { lock.unlock() }
    if let path = built["combined"] { return path }
    let output = try outputDirectory() + "/combined.o"
    try TestSupport.shell("ld -r '\(first)' '\(second)' -o '\(output)'")
    built["combined"] = output
    return output
  }

  /// The two objects of the miscmod example.
  static func miscmod() throws -> [String] {
    [try object("miscmod/miscmod.c"), try object("miscmod/misccall.c")]
  }

  static func outputDirectory() throws -> String {
    if let directory { return directory }
    let made = try TestSupport.temporaryDirectory("lkm-modules")
    directory = made
    atexit {
      if let directory = KernelFixtures.directory {
        try? FileManager.default.removeItem(atPath: directory)
      }
    }
    return made
  }
}

/// The outcome of a tool run, compared as a whole so that a failure shows all of it.
struct Outcome: Equatable, CustomStringConvertible {
  var status: Int32
  var stdout: String
  var stderr: String
  var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)---" }
}

/// A finished tool run.
struct ToolRun: CustomStringConvertible {
  var status: Int32
  var signaled: Bool
  var stdout: String
  var stderr: String
  var pid: Int32
  var seconds: Double
  var outcome: Outcome {
    Outcome(status: signaled ? 128 + status : status, stdout: stdout, stderr: stderr)
  }
  var description: String { outcome.description }
}

/// A started process whose output is collected; ``wait()`` gives the run.
final class ToolProcess: @unchecked Sendable {
  let process = Process()
  private let group = DispatchGroup()
  private let lock = NSLock()
  private var out = Data()
  private var err = Data()
  let started = Date()

  init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    let outPipe = Pipe()
    let errPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
      group.enter()
      DispatchQueue.global().async {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        self.lock.lock()
        if isOut { self.out = data } else { self.err = data }
        self.lock.unlock()
        self.group.leave()
      }
    }
  }

  var isRunning: Bool { process.isRunning }

  /// Waits for the process; one still running after `timeout` seconds is killed (SIGKILL) and
  /// the run says so on its stderr.
  func wait(timeout: Double = 60) -> ToolRun {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(2_000) }
    let timedOut = process.isRunning
    if timedOut { kill(process.processIdentifier, SIGKILL) }
    group.wait()
    process.waitUntilExit()
    lock.lock()
    defer { lock.unlock() }
    return ToolRun(
      status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
      stdout: String(decoding: out, as: UTF8.self),
      stderr: String(decoding: err, as: UTF8.self)
        + (timedOut ? "[killed after \(timeout) s]\n" : ""),
      pid: process.processIdentifier, seconds: Date().timeIntervalSince(started))
  }
}

/// An lkmd on a device in its own temporary directory, its console collected.
final class KernelProcess: @unchecked Sendable {
  let directory: String
  let device: String
  let process = Process()
  private let lock = NSLock()
  private var consoleData = Data()
  private var stderrData = Data()
  private let readers = DispatchGroup()
  private var stopped = false

  /// Starts `lkmd --device DEVICE ARGUMENTS` (DEVICE: `device`, else DIR/dev/lkm in a new
  /// temporary directory) and waits for its ready line.
  ///
  /// lkmd inherits the spawning thread's signal mask, and the worker threads tests run on
  /// block SIGALRM and SIGTERM; lkmd is started with an empty mask unless `blocking` names
  /// signals to leave blocked (the test that lkmd unblocks what it needs). `extra` is added to
  /// (a nil value: removed from) lkmd's environment.
  init(
    _ arguments: [String] = [], blocking: [Int32] = [], device: String? = nil,
    environment extra: [String: String?] = [:]
  ) throws {
    directory = try TestSupport.temporaryDirectory("lkmd")
    self.device = device ?? directory + "/dev/lkm"
    process.executableURL = URL(fileURLWithPath: TestSupport.product("lkmd"))
    process.arguments = ["--device", self.device] + arguments
    var environment = ProcessInfo.processInfo.environment
    environment["LKM_DEVICE"] = nil
    for (key, value) in extra { environment[key] = value }
    process.environment = environment
    let outPipe = Pipe()
    let errPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = FileHandle.nullDevice
    var mask = sigset_t()
    var saved = sigset_t()
    sigemptyset(&mask)
    for signal in blocking { sigaddset(&mask, signal) }
    pthread_sigmask(SIG_SETMASK, &mask, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    try process.run()
    for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
      readers.enter()
      DispatchQueue.global().async {
        let handle = pipe.fileHandleForReading
        while true {
          let data = handle.availableData
          if data.isEmpty { break }
          self.lock.lock()
          if isOut { self.consoleData.append(data) } else { self.stderrData.append(data) }
          self.lock.unlock()
        }
        self.readers.leave()
      }
    }
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

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// Everything lkmd printed on stdout (the ready line, then the kernel console).
  var console: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: consoleData, as: UTF8.self)
  }

  /// The console once it ends with `suffix` (lkmd writes it before replying, but the pipe to
  /// the test is read asynchronously), or as it is after five seconds.
  func console(endingWith suffix: String) -> String {
    let deadline = Date().addingTimeInterval(5)
    while !console.hasSuffix(suffix) && Date() < deadline { usleep(2_000) }
    return console
  }

  var standardError: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: stderrData, as: UTF8.self)
  }

  /// The tools' environment: this kernel's device, and the built tools first in PATH (for
  /// postinstall scripts).
  var environment: [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment["LKM_DEVICE"] = device
    environment["PATH"] = TestSupport.productsDirectory + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
    return environment
  }

  /// Starts a tool (`modload`, `lkmctl`, …) against this kernel, through $LKM_DEVICE.
  func start(_ tool: String, _ arguments: [String]) throws -> ToolProcess {
    try ToolProcess(TestSupport.product(tool), arguments, environment: environment)
  }

  /// Runs a tool against this kernel and waits for it.
  func run(_ tool: String, _ arguments: String...) throws -> ToolRun {
    try start(tool, arguments).wait()
  }

  func run(_ tool: String, _ arguments: [String]) throws -> ToolRun {
    try start(tool, arguments).wait()
  }

  /// `lkmctl dmesg`'s output (which must succeed).
  func dmesg() throws -> String {
    let result = try run("lkmctl", "dmesg")
    guard result.status == 0 else { throw TestSupport.Failure("lkmctl dmesg failed: \(result)") }
    return result.stdout
  }

  /// `modstat`'s output (which must succeed).
  func modstat(_ arguments: String...) throws -> String {
    let result = try run("modstat", arguments)
    guard result.status == 0, result.stderr.isEmpty else {
      throw TestSupport.Failure("modstat failed: \(result)")
    }
    return result.stdout
  }

  /// Sends SIGTERM and waits for lkmd to exit; returns how it exited and its whole console.
  @discardableResult
  func stop() -> (status: Int32, signaled: Bool, console: String) {
    if !stopped {
      stopped = true
      kill(process.processIdentifier, SIGTERM)
      let deadline = Date().addingTimeInterval(10)
      while process.isRunning && Date() < deadline { usleep(5_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      _ = readers.wait(timeout: .now() + 5)
    }
    return (process.terminationStatus, process.terminationReason == .uncaughtSignal, console)
  }
}

/// Runs `body` against a fresh lkmd, then stops it with SIGTERM and expects exit status 0.
func withKernel(
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
func expectRun(
  _ run: ToolRun, _ status: Int32, stdout: String = "", stderr: String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(
    run.outcome == Outcome(status: status, stdout: stdout, stderr: stderr),
    sourceLocation: sourceLocation)
}

/// The line a tool prints after a failure because module code faulted (the reply says an oops
/// was written).
func oopsHint(_ tool: String) -> String { "\(tool): see lkmctl dmesg for the oops\n" }

/// The text of `lkmctl syscall N` when the slot is free.
func notImplemented(_ number: Int) -> String {
  "lkmctl: syscall \(number): Function not implemented\n"
}

/// Replaces the number in "DDB symbols added: N bytes" (it counts the compiler's symbols).
func maskSymbolBytes(_ text: String) -> String {
  text.replacing(#/DDB symbols added: [0-9]+ bytes/#, with: "DDB symbols added: N bytes")
}

/// modstat's output with the addresses masked, and the fields of each row.
struct ModstatListing {
  struct Row {
    var id: Int
    var offset: Int
    var area: UInt64
    var pages: UInt64
    var info: UInt64
    var name: String
  }

  static let header = "Type     Id Off Loadaddr         Size Info             Rev Module Name\n"
  static let mask = "################"

  /// The text with Loadaddr, Size and Info replaced by `#`s of the same width.
  var masked = ""
  var rows: [Row] = []
  /// Rows that do not have OpenBSD's format (`%-7s %3d %3ld %016lx %04lx %016lx %3ld %s`).
  var malformed: [String] = []

  init(_ text: String) {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    for (index, line) in lines.enumerated() {
      if index == 0 {
        masked += line + "\n"
        continue
      }
      let format =
        #/(?<type>[A-Z][A-Z ]{6}) (?<id> {0,2}[0-9]+) (?<off> {0,2}-?[0-9]+) (?<area>[0-9a-f]{16}) (?<size>[0-9a-f]{4}) (?<info>[0-9a-f]{16}) (?<rev> {0,2}[0-9]+) (?<name>.*)/#
      guard let m = line.wholeMatch(of: format), m.type.count == 7, m.id.count >= 3,
        m.off.count >= 3,
        m.rev.count >= 3
      else {
        malformed.append(line)
        masked += line + "\n"
        continue
      }
      rows.append(
        Row(
          id: Int(m.id.trimmingCharacters(in: .whitespaces))!,
          offset: Int(m.off.trimmingCharacters(in: .whitespaces))!,
          area: UInt64(m.area, radix: 16)!,
          pages: UInt64(m.size, radix: 16)!, info: UInt64(m.info, radix: 16)!, name: String(m.name))
      )
      masked += "\(m.type) \(m.id) \(m.off) \(Self.mask) ssss \(Self.mask) \(m.rev) \(m.name)\n"
    }
  }

  /// Checks what the masks hide: a page-aligned load address, at least one page, and the
  /// module's declaration (Info) inside its image.
  func expectConsistent(sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
      malformed.isEmpty, "rows not in modstat's format: \(malformed)",
      sourceLocation: sourceLocation)
    for row in rows {
      #expect(
        row.area % 4096 == 0 && row.area != 0, "load address \(row.area)",
        sourceLocation: sourceLocation)
      #expect(row.pages >= 1, "size \(row.pages) pages", sourceLocation: sourceLocation)
      #expect(
        row.info >= row.area && row.info < row.area + row.pages * 4096,
        "Info \(String(row.info, radix: 16)) outside the image at \(String(row.area, radix: 16))",
        sourceLocation: sourceLocation)
    }
  }
}

/// A masked modstat row, as the tests write the expected listing.
func modstatRow(_ type: String, _ id: Int, _ offset: Int, _ name: String) -> String {
  let typeField = type.padding(toLength: 7, withPad: " ", startingAt: 0)
  let idField = String(repeating: " ", count: max(0, 3 - String(id).count)) + String(id)
  let offField = String(repeating: " ", count: max(0, 3 - String(offset).count)) + String(offset)
  let m = ModstatListing.mask
  return "\(typeField) \(idField) \(offField) \(m) ssss \(m)   2 \(name)\n"
}

/// A client speaking the device protocol directly, for what no tool does: holding a session,
/// disconnecting mid-request, sending malformed frames.
final class RawDeviceClient: @unchecked Sendable {
  private(set) var fd: Int32

  init(path: String) throws {
    fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSupport.Failure("socket: \(errno)") }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in path.utf8.enumerated() { raw[i] = b }
    }
    let status = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard status == 0 else {
      close()
      throw TestSupport.Failure("connect \(path): errno \(errno)")
    }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  deinit { close() }

  func close() {
    if fd >= 0 {
      _ = Glibc.close(fd)
      fd = -1
    }
  }

  /// Writes raw bytes.
  func write(_ bytes: [UInt8]) throws {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes {
        send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
      }
      guard n > 0 else { throw TestSupport.Failure("send: errno \(errno)") }
      done += n
    }
  }

  /// A frame: a 32-bit little-endian length, then the payload.
  static func frame(_ payload: [UInt8]) -> [UInt8] { littleEndian(UInt32(payload.count)) + payload }

  static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
  }

  /// The hello request: opcode 1, read-write, blocking or not.
  static func hello(write: Bool = true, nonblocking: Bool = false) -> [UInt8] {
    frame([1, write ? 1 : 0, nonblocking ? 1 : 0])
  }

  /// A stat request by id: opcode 4, the id, no name.
  static func stat(id: Int32) -> [UInt8] { frame([4] + littleEndian(id) + [0]) }

  /// Reads one reply frame and returns its errno (the payload's first field), or nil if the
  /// kernel closed the session.
  func readReplyErrno() throws -> Int32? {
    guard let header = try readExactly(4) else { return nil }
    let length = Int(
      UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24
    )
    guard let payload = try readExactly(length), payload.count >= 4 else { return nil }
    return Int32(
      bitPattern: UInt32(payload[0]) | UInt32(payload[1]) << 8 | UInt32(payload[2]) << 16 | UInt32(
        payload[3]) << 24)
  }

  private func readExactly(_ count: Int) throws -> [UInt8]? {
    var buffer = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + done, count - done, 0) }
      if n == 0 { return nil }
      if n < 0 {
        if errno == EINTR { continue }
        if errno == ECONNRESET { return nil }
        throw TestSupport.Failure("recv: errno \(errno)")
      }
      done += n
    }
    return buffer
  }
}
