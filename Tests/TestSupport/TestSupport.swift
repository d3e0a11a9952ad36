import Foundation

/// Helpers the test targets share: running processes, compiling fixtures, finding paths.
public enum TestSupport {
  /// The package's root directory.
  public static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// The directory holding the built products (next to the running test bundle).
  public static let productsDirectory: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().path
  }()

  /// The path of a built executable product (`lkmrun`).
  public static func product(_ name: String) -> String { productsDirectory + "/" + name }

  /// A path inside Fixtures/.
  public static func fixture(_ path: String) -> String { packageRoot + "/Fixtures/" + path }

  /// The result of running a process.
  public struct Result: Sendable, CustomStringConvertible {
    public var status: Int32
    /// Whether the process was killed by a signal (then `status` is the signal number).
    public var signaled: Bool
    public var stdout: String
    public var stderr: String
    public var description: String {
      "status \(status)\(signaled ? " (signal)" : "")\nstdout: \(stdout)\nstderr: \(stderr)"
    }
  }

  /// Runs `executable` with `arguments`, waiting for it; output is captured.
  public static func run(
    _ executable: String, _ arguments: [String], input: String? = nil,
    environment: [String: String]? = nil, directory: String? = nil
  ) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let inPipe = Pipe()
    process.standardInput = inPipe
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(input.data(using: .utf8)!) }
    try? inPipe.fileHandleForWriting.close()
    // Read both pipes concurrently so that neither fills.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
      stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
  }

  /// Runs a shell command line (for compilers), throwing with its output when it fails.
  @discardableResult
  public static func shell(_ command: String, directory: String? = nil) throws -> String {
    let result = try run("/bin/sh", ["-c", command], directory: directory)
    guard result.status == 0 && !result.signaled else {
      throw Failure("command failed: \(command)\n\(result)")
    }
    return result.stdout
  }

  /// A new empty temporary directory.
  public static func temporaryDirectory(_ label: String = "lkm") throws -> String {
    let path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// The C compilers the matrix uses: gcc, and the clang shipped with Swift.
  public static let compilers: [String] = {
    var list = ["gcc"]
    let swiftClang = "/opt/swift/usr/bin/clang"
    if FileManager.default.isExecutableFile(atPath: swiftClang) {
      list.append(swiftClang)
    } else if let found = try? shell("command -v clang").trimmingCharacters(in: .whitespacesAndNewlines),
      !found.isEmpty
    {
      list.append(found)
    }
    return list
  }()

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
  }
}
