public import Foundation

/// The one fixture compiler: C modules compiled as a module author compiles them, with one set
/// of flags (``command``), each once per test run into one temporary directory.
public enum KernelFixtures {
  /// The module-facing headers (`<sys/lkm.h>`, …).
  public static let include = TestSupport.packageRoot + "/Sources/CLKM/kernel/include"

  /// The compiler and flags every fixture module is built with: `cc -c -D_KERNEL -I include`,
  /// as README.md and Fixtures/lkm/README.md tell module authors (gcc's default, -O0). A test
  /// that needs a flag of its own (`-fPIC`, `-DFAULT`) adds it with `flags:` or `defines:`.
  public static let command = "gcc -c -D_KERNEL -I '\(include)'"

  static let lock = NSLock()
  nonisolated(unsafe) static var directory: String?
  /// Name → (command line, object path).
  nonisolated(unsafe) static var built: [String: (command: String, path: String)] = [:]

  /// A path under Fixtures/lkm (scripts, programs, sources).
  public static func fixture(_ path: String) -> String { TestSupport.fixture("lkm/" + path) }

  /// Compiles `Fixtures/lkm/<source>` to `<name>.o` (defaults to the source's base name; a
  /// name with a `/` is in a subdirectory, for a second object of the same file name), with
  /// `defines` (`-D`) and `flags` added to ``command``; compiled once per run, and a second
  /// request for the same name with other flags is an error (name it with `as:`).
  public static func object(
    _ source: String, as name: String? = nil, defines: [String] = [], flags: [String] = []
  ) throws -> String {
    let base = name ?? URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
    return try cached(
      base + ".o", source: fixture(source), extra: defines.map { "-D\($0)" } + flags)
  }

  /// Compiles a source that is not under Fixtures/lkm (one a test wrote) with ``command`` and
  /// `flags`, to `output`.
  public static func compile(_ source: String, to output: String, flags: [String] = []) throws {
    try TestSupport.shell(commandLine(source, output, flags))
  }

  /// The newsyscall example as OpenBSD's Makefile builds it: both objects `ld -r`'d into
  /// combined.o.
  public static func newsyscall() throws -> String {
    let first = try object("newsyscall/newsyscall.c")
    let second = try object("newsyscall/mycall.c")
    return try build("combined.o") { "ld -r '\(first)' '\(second)' -o '\($0)'" }
  }

  /// The two objects of the miscmod example.
  public static func miscmod() throws -> [String] {
    [try object("miscmod/miscmod.c"), try object("miscmod/misccall.c")]
  }

  /// The directory the fixtures are compiled into (removed when the tests exit).
  public static func outputDirectory() throws -> String {
    if let directory = unsafe directory { return directory }
    let made = try TestSupport.temporaryDirectory("lkm-modules")
    unsafe directory = made
    atexit {
      if let directory = unsafe KernelFixtures.directory {
        try? FileManager.default.removeItem(atPath: directory)
      }
    }
    return made
  }

  private static func commandLine(_ source: String, _ output: String, _ flags: [String]) -> String {
    let quoted = flags.map { "'\($0)'" }.joined(separator: " ")
    return "\(command)\(quoted.isEmpty ? "" : " " + quoted) '\(source)' -o '\(output)'"
  }

  private static func cached(_ file: String, source: String, extra: [String]) throws -> String {
    try build(file) { commandLine(source, $0, extra) }
  }

  /// `file` in the output directory, made once per run by the shell command `command(path)`
  /// (for what is not a module: a host program a test runs). A second request for the same file
  /// with another command is an error.
  public static func build(_ file: String, _ command: (String) -> String) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    let output = try outputDirectory() + "/" + file
    let line = command(output)
    if let done = unsafe built[file] {
      guard done.command == line else {
        throw TestSupport.Failure(
          "\(file) was made by '\(done.command)', now asked of '\(line)': give it another name")
      }
      return done.path
    }
    try FileManager.default.createDirectory(
      atPath: URL(fileURLWithPath: output).deletingLastPathComponent().path,
      withIntermediateDirectories: true)
    try TestSupport.shell(line)
    unsafe built[file] = (line, output)
    return output
  }
}
