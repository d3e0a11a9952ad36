import Foundation
import TestSupport

/// A running lkmd on a temporary device path, and the tools pointed at it (LKM_DEVICE, and
/// PATH leading to the built products for postinstall scripts).
final class DeviceKernel: @unchecked Sendable {
  let directory: String
  let device: String
  let console: String
  let process = Process()

  /// Starts lkmd and waits for its ready line.
  init(watchdog: Int = 10) throws {
    directory = try TestSupport.temporaryDirectory("lkmdev")
    device = directory + "/run/lkm"
    console = directory + "/console"
    FileManager.default.createFile(atPath: console, contents: nil)
    let handle = FileHandle(forWritingAtPath: console)!
    process.executableURL = URL(fileURLWithPath: TestSupport.product("lkmd"))
    process.arguments = ["--device", device, "--watchdog", "\(watchdog)"]
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if let text = try? String(contentsOfFile: console, encoding: .utf8),
        text.contains("lkmd: ready")
      {
        return
      }
      usleep(10_000)
    }
    process.terminate()
    throw TestSupport.Failure(
      "lkmd did not start: \((try? String(contentsOfFile: console, encoding: .utf8)) ?? "")")
  }

  deinit {
    if process.isRunning {
      process.terminate()
      process.waitUntilExit()
    }
    try? FileManager.default.removeItem(atPath: directory)
  }

  var environment: [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["LKM_DEVICE"] = device
    env["PATH"] = TestSupport.productsDirectory + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    return env
  }

  /// Runs a built tool against this kernel.
  func run(_ tool: String, _ arguments: String...) throws -> TestSupport.Result {
    try TestSupport.run(
      TestSupport.product(tool), arguments, environment: environment, directory: directory)
  }

  /// Runs a tool that must succeed; its stdout.
  @discardableResult
  func ok(_ tool: String, _ arguments: String...) throws -> String {
    let result = try TestSupport.run(
      TestSupport.product(tool), arguments, environment: environment, directory: directory)
    guard result.status == 0, !result.signaled, result.stderr.isEmpty else {
      throw TestSupport.Failure("\(tool) \(arguments.joined(separator: " ")): \(result)")
    }
    return result.stdout
  }

  /// A file in the kernel's temporary directory.
  func file(_ name: String, _ contents: String) throws -> String {
    let path = directory + "/" + name
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }
}

/// The device, file system and exec modules of Fixtures/lkm, compiled as a module author
/// compiles them: `cc -c -D_KERNEL -I Sources/CLKM/kernel/include`.
enum DeviceModules {
  static let include = TestSupport.packageRoot + "/Sources/CLKM/kernel/include"
  static let fixtures = TestSupport.packageRoot + "/Fixtures/lkm"
  nonisolated(unsafe) static var built: [String: String] = [:]
  static let lock = NSLock()
  static let directory: String = {
    let path = NSTemporaryDirectory() + "lkm-devmodules-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()

  /// Compiles `Fixtures/lkm/<source>` with extra flags into `<name>.o`; returns its path.
  static func object(_ source: String, name: String? = nil, _ flags: [String] = []) throws -> String
  {
    let output =
      directory + "/"
      + (name ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent) + ".o"
    lock.lock()
    defer { lock.unlock() }
    if let done = built[output] { return done }
    let quoted = flags.map { "'\($0)'" }.joined(separator: " ")
    try TestSupport.shell(
      "gcc -c -O2 -D_KERNEL -I '\(include)' \(quoted) '\(fixtures)/\(source)' -o '\(output)'")
    built[output] = output
    return output
  }

  /// A fixture file's path (scripts, programs).
  static func fixture(_ path: String) -> String { fixtures + "/" + path }
}

extension String {
  /// modstat output with the load address, size and info columns replaced, for exact
  /// comparison: `DEV       0  11 ADDRESS SIZE INFO   2 rot13`.
  var maskedAddresses: String {
    replacingOccurrences(
      of: "[0-9a-f]{16} [0-9a-f]{4} [0-9a-f]{16}", with: "ADDRESS SIZE INFO",
      options: .regularExpression)
  }
}

let modstatHeader = "Type     Id Off Loadaddr         Size Info             Rev Module Name\n"
