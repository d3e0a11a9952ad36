import Foundation
import TestSupport
import Testing

/// Link fidelity (issue 11): programs of several objects that exercise what a static link does
/// beyond relocation (COMDAT groups and their `.eh_frame` entries, constructor and destructor
/// order, symbol versions, IFUNC identity, thread-local storage, libgcc's helpers), compiled at
/// test time by gcc and clang, linked natively by GNU ld (through gcc's driver) and run by
/// `lkmrun`: both must print the same, exit the same way, and a second run of lkmrun, loading the
/// image the first stored in the cache, too.
@Suite("LinkFidelity")
struct LinkFidelityTests {
  static let lkmrun = TestSupport.product("lkmrun")

  /// One program built one way.
  struct Case: Sendable, CustomTestStringConvertible {
    /// The directory under Fixtures/fidelity: every .c and .cpp file in it is compiled.
    var fixture: String
    /// `gcc` or `clang` (g++ and clang++ for C++ sources).
    var compiler: String
    var flags: [String]
    /// lkmrun options before the objects.
    var lkmflags: [String] = []
    /// Extra options of the native link (libraries).
    var nativeFlags: [String] = []

    var testDescription: String {
      "\(fixture) \(compiler) \(flags.joined(separator: " "))"
    }
  }

  static let compilers = ["gcc", "clang"]
  static let models: [[String]] = [[], ["-fPIC"], ["-fno-pic"]]

  static func matrix(
    _ fixture: String, levels: [String] = ["-O0", "-O2"], models: [[String]] = models,
    compilers: [String] = compilers, lkmflags: [String] = [], nativeFlags: [String] = []
  ) -> [Case] {
    var cases: [Case] = []
    for compiler in compilers {
      for level in levels {
        for model in models {
          cases.append(
            Case(
              fixture: fixture, compiler: compiler, flags: [level] + model, lkmflags: lkmflags,
              nativeFlags: nativeFlags))
        }
      }
    }
    return cases
  }

  /// The driver for a source: gcc or Swift's clang, their C++ forms for .cpp.
  static func driver(_ compiler: String, cxx: Bool) -> String {
    let clang = TestSupport.compilers.first { $0.hasSuffix("clang") } ?? "clang"
    switch (compiler, cxx) {
    case ("gcc", false): return "gcc"
    case ("gcc", true): return "g++"
    case (_, false): return clang
    case (_, true): return clang + "++"
    }
  }

  /// What building and running a case gave: the native program's run and lkmrun's two (the
  /// second from the cache), with the commands for messages.
  struct Outcome {
    var native: TestSupport.Result
    var lkmrun: TestSupport.Result
    var cached: TestSupport.Result
    var commands: String

    var comment: Comment {
      Comment(
        rawValue: commands + "\nnative: \(native)\nlkmrun: \(lkmrun)\nlkmrun (cached): \(cached)")
    }
  }

  /// Compiles the case's sources, links them natively with gcc's driver (GNU ld) and runs the
  /// program, then runs the objects under lkmrun twice.
  static func build(_ c: Case, directory: String) throws -> Outcome {
    let source = TestSupport.fixture("fidelity/" + c.fixture)
    let files = try FileManager.default.contentsOfDirectory(atPath: source)
      .filter { $0.hasSuffix(".c") || $0.hasSuffix(".cpp") }.sorted { a, b in
        // main first: link order is the order the program's tables are in.
        (a.hasPrefix("main.") ? 0 : 1, a) < (b.hasPrefix("main.") ? 0 : 1, b)
      }
    var commands: [String] = []
    var objects: [String] = []
    let cxx = files.contains { $0.hasSuffix(".cpp") }
    for file in files {
      let object = directory + "/" + file + ".o"
      let command =
        ([driver(c.compiler, cxx: file.hasSuffix(".cpp")), "-c"] + c.flags
        + [source + "/" + file, "-o", object]).joined(separator: " ")
      commands.append(command)
      try TestSupport.shell(command)
      objects.append(object)
    }
    let pie = c.flags.contains("-fno-pic") ? ["-no-pie"] : []
    let native = directory + "/native"
    let link = ([cxx ? "g++" : "gcc"] + pie + objects + c.nativeFlags + ["-o", native]).joined(
      separator: " ")
    commands.append(link)
    try TestSupport.shell(link)
    let nativeRun = try run(native, [])
    let arguments = c.lkmflags + objects
    commands.append(([lkmrun] + arguments).joined(separator: " "))
    let environment = ["XDG_CACHE_HOME": directory + "/cache"]
    let first = try run(lkmrun, arguments, environment: environment)
    let second = try run(lkmrun, arguments, environment: environment)
    return Outcome(
      native: nativeRun, lkmrun: first, cached: second, commands: commands.joined(separator: "\n"))
  }

  static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:])
    throws -> TestSupport.Result
  {
    var env = ProcessInfo.processInfo.environment
    env["LKM_NO_CACHE"] = nil
    for (key, value) in environment { env[key] = value }
    return try TestSupport.run(
      "/usr/bin/timeout", ["--kill-after=5", "60", executable] + arguments, environment: env)
  }

  /// Builds and runs `c`, expecting lkmrun to behave as the native program.
  static func expectNative(_ c: Case) throws {
    let directory = try TestSupport.temporaryDirectory("fidelity")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let outcome = try build(c, directory: directory)
    let comment = outcome.comment
    #expect(!outcome.native.signaled && outcome.native.status == 0, comment)
    #expect(!outcome.native.stdout.isEmpty, comment)
    for run in [outcome.lkmrun, outcome.cached] {
      #expect(!run.signaled && run.status == outcome.native.status, comment)
      #expect(run.stdout == outcome.native.stdout, comment)
      #expect(run.stderr == outcome.native.stderr, comment)
    }
  }

  // MARK: - C++ across files

  @Test(
    "C++ of two files sharing vector<int> instantiations, inline functions and exceptions",
    arguments: matrix("cxxfiles", lkmflags: ["-l", "stdc++"]))
  func cxxAcrossFiles(_ c: Case) throws { try Self.expectNative(c) }

  // MARK: - Constructors and destructors

  @Test(
    ".preinit_array, .init_array.N, .ctors(.N), .fini_array(.N), .dtors(.N) and atexit in GNU ld's order",
    arguments: matrix("dtors", models: [[], ["-fno-pic"]]))
  func constructorOrder(_ c: Case) throws { try Self.expectNative(c) }

  // MARK: - Symbol versions

  @Test(
    ".symver: f@@V2 satisfies f, f@V1 its own references, a host reference name@VERSION is dlvsym's",
    arguments: matrix("symver", levels: ["-O2"]))
  func symbolVersions(_ c: Case) throws { try Self.expectNative(c) }

  // MARK: - IFUNC identity

  @Test(
    "an IFUNC's address is the same in every object, as GNU ld makes it",
    arguments: matrix("ifunc", levels: ["-O2"]))
  func ifuncIdentity(_ c: Case) throws { try Self.expectNative(c) }

  // MARK: - libgcc

  @Test(
    "libgcc.a's helpers (__udivti3, __modti3, __popcountdi2, __mulsc3, __cpu_model) resolved as gcc's driver links them",
    arguments: matrix("libgcc", levels: ["-O2"]))
  func libgccHelpers(_ c: Case) throws { try Self.expectNative(c) }

  /// Debian's libpython3.11.a (libpython3.11-dev, installed by scripts/setup) is not
  /// position-independent, needs libgcc's __popcountdi2, libexpat and zlib.
  static let libpython = "/usr/lib/x86_64-linux-gnu/libpython3.11.a"

  @Test(
    "Debian's libpython3.11.a embedded: a driver runs Python code",
    .enabled(
      if: FileManager.default.fileExists(atPath: libpython),
      "libpython3.11-dev is missing: run scripts/setup"))
  func embeddedPython() throws {
    let directory = try TestSupport.temporaryDirectory("python")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = TestSupport.fixture("fidelity/python/embed.c")
    try TestSupport.shell(
      "gcc -O2 -c $(python3.11-config --includes) \(source) -o embed.o"
        + " && gcc -no-pie embed.o \(Self.libpython) -lexpat -lz -lm -o native",
      directory: directory)
    let native = try Self.run(directory + "/native", [])
    let run = try Self.run(
      Self.lkmrun, ["--no-cache", "-l", "expat", "-l", "z", directory + "/embed.o", Self.libpython])
    #expect(native.status == 0 && native.stdout.contains("5050"), "\(native)")
    #expect(run.status == 0 && run.stdout == native.stdout && run.stderr.isEmpty, "\(run)")
  }

  // MARK: - Placement

  @Test(
    "a default-PIE C++ program naming stdout, iostreams, locale data and typeinfo links where it reaches them all",
    arguments: matrix("iostdio", levels: ["-O2"], lkmflags: ["-l", "stdc++"]))
  func placementWithCopies(_ c: Case) throws { try Self.expectNative(c) }

  // MARK: - Thread-local storage

  /// Every TLS model: PIE (local-exec for the object's own variables, initial-exec for the
  /// other's), PIC (general- and local-dynamic), non-PIC, TLS descriptors (gnu2; clang's
  /// local-dynamic form through `_TLS_MODULE_BASE_`), and each model forced.
  static let threadLocalModels: [[String]] = [
    [], ["-fPIC"], ["-fno-pic"], ["-fPIC", "-mtls-dialect=gnu2"],
    ["-fPIC", "-ftls-model=initial-exec"], ["-fPIC", "-ftls-model=local-dynamic"],
    ["-ftls-model=local-exec"],
  ]

  @Test(
    "thread-local variables in every model: .tdata (relocated) and .tbss in the loading thread and threads created after the load",
    arguments: matrix("tls", models: threadLocalModels, nativeFlags: ["-pthread"]))
  func threadLocalStorage(_ c: Case) throws { try Self.expectNative(c) }

  @Test(
    "std::call_once, std::async and thread_local in C++ (libstdc++'s own thread-local variables)",
    arguments: matrix(
      "async", levels: ["-O2"], lkmflags: ["-l", "stdc++"], nativeFlags: ["-pthread"]))
  func threadLocalCxx(_ c: Case) throws { try Self.expectNative(c) }

  /// Debian static libraries with thread-local variables (scripts/setup installs their -dev
  /// packages): libjpeg-turbo's SIMD flags (local-dynamic), MPFR's caches, flags and exponent
  /// range (initial-exec and local-exec in a non-PIC archive).
  static let debianLibraries: [(driver: String, archives: [String])] = [
    ("jpeg.c", ["/usr/lib/x86_64-linux-gnu/libjpeg.a"]),
    ("mpfr.c", ["/usr/lib/x86_64-linux-gnu/libmpfr.a", "/usr/lib/x86_64-linux-gnu/libgmp.a"]),
  ]

  @Test(
    "Debian's libjpeg-turbo and MPFR, whose archives use thread-local variables, in two threads",
    arguments: debianLibraries.map(\.driver))
  func threadLocalDebianLibraries(_ driver: String) throws {
    let archives = Self.debianLibraries.first { $0.driver == driver }!.archives
    let missing = archives.filter { !FileManager.default.fileExists(atPath: $0) }
    try #require(
      missing.isEmpty, "\(missing.joined(separator: ", ")) missing: run scripts/setup")
    let directory = try TestSupport.temporaryDirectory("debian-tls")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let source = TestSupport.fixture("fidelity/debian/" + driver)
    try TestSupport.shell(
      "gcc -O2 -c \(source) -o driver.o && gcc driver.o \(archives.joined(separator: " "))"
        + " -pthread -o native",
      directory: directory)
    let native = try Self.run(directory + "/native", [])
    let run = try Self.run(Self.lkmrun, ["--no-cache", directory + "/driver.o"] + archives)
    #expect(native.status == 0 && !native.stdout.isEmpty, "\(native)")
    #expect(run.status == 0 && run.stdout == native.stdout && run.stderr.isEmpty, "\(run)")
  }

  // MARK: - LTO objects

  @Test("gcc -flto objects, given or pulled from an archive, are named with the fix")
  func slimLTOObjects() throws {
    let directory = try TestSupport.temporaryDirectory("lto")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try "int helper(int x) { return x * 3; }\n".write(
      toFile: directory + "/helper.c", atomically: true, encoding: .utf8)
    try "int helper(int);\nint main(void) { return helper(4) - 12; }\n".write(
      toFile: directory + "/main.c", atomically: true, encoding: .utf8)
    try TestSupport.shell(
      "gcc -O2 -c main.c && gcc -O2 -flto -c helper.c -o slim.o && ar rcs libslim.a slim.o"
        + " && gcc -O2 -flto -ffat-lto-objects -c helper.c -o fat.o",
      directory: directory)
    let advice =
      "holds GCC's intermediate code only (gcc -flto), not machine code: compile without -flto,"
      + " or with -ffat-lto-objects\n"
    let given = try Self.run(
      Self.lkmrun, ["--no-cache", directory + "/main.o", directory + "/slim.o"])
    #expect(
      given.status == 1 && given.stderr == "lkmrun: \(directory)/slim.o: " + advice, "\(given)")
    let pulled = try Self.run(
      Self.lkmrun, ["--no-cache", directory + "/main.o", directory + "/libslim.a"])
    #expect(
      pulled.status == 1 && pulled.stderr == "lkmrun: \(directory)/libslim.a(slim.o): " + advice,
      "\(pulled)")
    // Fat LTO objects hold machine code too: they link.
    let fat = try Self.run(
      Self.lkmrun, ["--no-cache", directory + "/main.o", directory + "/fat.o"])
    #expect(fat.status == 0 && fat.stderr.isEmpty, "\(fat)")
  }
}
