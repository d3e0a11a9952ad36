public import Foundation

/// What every test target shares: paths, temporary directories, failures, compilers. The rest of
/// this target: ``ToolProcess`` (the one process runner), ``KernelProcess`` (an lkmd on a
/// temporary device), ``KernelFixtures`` (the one fixture compiler), ``RawDeviceClient``,
/// ``ModstatListing`` and ``FixtureTable`` (the corpora's expected.tsv files).
public enum TestSupport {
  /// The package's root directory.
  public static let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  /// The directory holding the built products (next to the running test bundle).
  public static let productsDirectory: String = {
    let exe =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().path
  }()

  /// The path of a built executable product (`lkmrun`).
  public static func product(_ name: String) -> String { productsDirectory + "/" + name }

  /// A path inside Fixtures/.
  public static func fixture(_ path: String) -> String { packageRoot + "/Fixtures/" + path }

  /// The result of running a process: ``ToolProcess/Result``.
  public typealias Result = ToolProcess.Result

  /// Runs `executable` with `arguments` and waits for it, however long it takes; output is
  /// captured. `environment` nil inherits the test's.
  public static func run(
    _ executable: String, _ arguments: [String], input: String? = nil,
    environment: [String: String]? = nil, directory: String? = nil
  ) throws -> Result {
    try ToolProcess(
      executable, arguments, input: input, environment: environment, directory: directory
    ).wait(timeout: nil)
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
    } else if let found = try? shell("command -v clang").trimmingCharacters(
      in: .whitespacesAndNewlines),
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
