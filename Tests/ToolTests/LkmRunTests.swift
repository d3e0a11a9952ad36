import Foundation
import TestSupport
import Testing

@Suite("lkmrun")
struct LkmRunTests {
  static let lkmrun = TestSupport.product("lkmrun")

  @Test("runs main with its arguments and exits with its status")
  func runsMain() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun")
    try """
    #include <stdio.h>
    int main(int argc, char **argv) { for (int i = 1; i < argc; i++) printf("%s\\n", argv[i]); return argc; }
    """.write(toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c m.c -o m.o", directory: dir)
    let result = try TestSupport.run(Self.lkmrun, [dir + "/m.o", "--", "one", "two"])
    #expect(result.stdout == "one\ntwo\n")
    #expect(result.status == 3 && !result.signaled)
  }

  @Test("arguments reach main as given (spaces, empty, UTF-8) through lkm's own CommandLine")
  func argumentsIntact() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun")
    try """
    #include <stdio.h>
    int main(int argc, char **argv) { for (int i = 0; i < argc; i++) printf("[%s]", argv[i]); return 0; }
    """.write(toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c m.c -o m.o", directory: dir)
    let result = try TestSupport.run(Self.lkmrun, [dir + "/m.o", "--", "a b", "", "é", "-n"])
    #expect(result.stdout == "[\(dir)/m.o][a b][][é][-n]")
    // The runtime's own argv search (a read of /proc/self/maps in a static constructor of
    // libswiftCore.a's CommandLine.cpp) is not linked into any tool: CArguments answers.
    for tool in ["lkmrun", "lkmrun-cxx", "modload", "modstat", "modunload", "lkmctl", "lkmd"] {
      let symbols = try TestSupport.run("/usr/bin/nm", [TestSupport.product(tool)])
      #expect(symbols.status == 0 && symbols.stdout.contains("_swift_stdlib_getUnsafeArgvArgc"))
      #expect(!symbols.stdout.contains("argvGrabber"), "\(tool) links CommandLine.cpp.o")
    }
  }

  @Test("-n links without running")
  func linkOnly() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun")
    try "#include <stdio.h>\nint main(void) { puts(\"ran\"); return 4; }".write(
      toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c m.c -o m.o", directory: dir)
    let result = try TestSupport.run(Self.lkmrun, ["-n", dir + "/m.o"])
    #expect(result.stdout == "" && result.status == 0)
  }
}

@Suite("lkmrun: the cache of linked images")
struct LkmRunCacheTests {
  static let lkmrun = TestSupport.product("lkmrun")

  /// Runs lkmrun with `extra` added to its environment (without LKM_NO_CACHE unless given).
  static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws
    -> TestSupport.Result
  {
    var environment = ProcessInfo.processInfo.environment
    environment["LKM_NO_CACHE"] = nil
    for (key, value) in extra { environment[key] = value }
    return try TestSupport.run(lkmrun, arguments, environment: environment)
  }

  /// A module printing a line and returning 5, compiled into a new directory.
  static func module(
    _ source: String = "#include <stdio.h>\nint main(void) { puts(\"cached\"); return 5; }"
  )
    throws -> (directory: String, object: String)
  {
    let dir = try TestSupport.temporaryDirectory("lkmrun-cache")
    try source.write(toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c -O2 m.c -o m.o", directory: dir)
    return (dir, dir + "/m.o")
  }

  @Test("a second run maps the cached image, and -v says which run linked")
  func secondRunHits() throws {
    let (dir, object) = try Self.module()
    let first = try Self.run(["-v", "--cache", dir + "/cache", object])
    #expect(first.stdout == "cached\n" && first.status == 5, "\(first)")
    #expect(first.stderr.contains("  cache miss (no entry): stored\n"), "\(first)")
    let second = try Self.run(["-v", "--cache", dir + "/cache", object])
    #expect(second.stdout == "cached\n" && second.status == 5, "\(second)")
    #expect(second.stderr.contains("  cache hit\n"), "\(second)")
  }

  @Test("--no-cache and LKM_NO_CACHE=1 link every time; the default cache is $XDG_CACHE_HOME/lkm")
  func switches() throws {
    let (dir, object) = try Self.module()
    let home = ["XDG_CACHE_HOME": dir + "/xdg"]
    for (arguments, environment) in [
      (["-v", "--no-cache", object], home),
      (["-v", object], home.merging(["LKM_NO_CACHE": "1"]) { $1 }),
    ] {
      let result = try Self.run(arguments, environment: environment)
      #expect(result.status == 5 && result.stderr.contains("  cache off\n"), "\(result)")
    }
    #expect(!FileManager.default.fileExists(atPath: dir + "/xdg/lkm"))
    for expected in ["  cache miss (no entry): stored\n", "  cache hit\n"] {
      let result = try Self.run(["-v", object], environment: home)
      #expect(result.status == 5 && result.stderr.contains(expected), "\(result)")
    }
    let entries = try FileManager.default.contentsOfDirectory(atPath: dir + "/xdg/lkm")
    #expect(entries.contains { $0.hasSuffix(".lkmimg") }, "\(entries)")
  }

  @Test("a host library rebuilt with another build ID misses")
  func libraryBuildID() throws {
    let (dir, object) = try Self.module(
      "#include <stdio.h>\nextern int provided(void);\nint main(void) { printf(\"%d\\n\", provided()); return 0; }"
    )
    try "int provided(void) { return 7; }".write(
      toFile: dir + "/p.c", atomically: true, encoding: .utf8)
    func build(_ id: String) throws {
      try TestSupport.shell(
        "gcc -shared -fPIC -O2 -Wl,--build-id=0x\(id) p.c -o libp.so", directory: dir)
    }
    let arguments = ["-v", "--cache", dir + "/cache", "-l", dir + "/libp.so", object]
    try build("1111")
    for expected in ["  cache miss (no entry): stored\n", "  cache hit\n"] {
      let result = try Self.run(arguments)
      #expect(result.stdout == "7\n" && result.stderr.contains(expected), "\(result)")
    }
    // The same code at the same path, another build ID: another key.
    try build("2222")
    let rebuilt = try Self.run(arguments)
    #expect(
      rebuilt.stdout == "7\n" && rebuilt.stderr.contains("  cache miss (no entry): stored\n"),
      "\(rebuilt)")
  }

  @Test("runs storing the same entry at once all run it")
  func concurrentRuns() throws {
    let (dir, object) = try Self.module()
    nonisolated(unsafe) var results = [TestSupport.Result?](repeating: nil, count: 6)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: 6) { i in
      let result = try? Self.run(["--cache", dir + "/cache", object])
      lock.lock()
      unsafe results[i] = result
      lock.unlock()
    }
    for result in unsafe results {
      #expect(result?.stdout == "cached\n" && result?.status == 5, "\(String(describing: result))")
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/cache")
    #expect(names.filter { $0.hasSuffix(".lkmimg") }.count == 1, "\(names)")
    #expect(!names.contains { $0.hasPrefix(".tmp-") }, "\(names)")
  }
}
