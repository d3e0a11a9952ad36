import Foundation
import TestSupport
import Testing

/// The fixture matrix: every program in Fixtures/c and Fixtures/cxx, compiled at test time by
/// each compiler at each optimisation level and code model, linked and run by `lkmrun`, must
/// print exactly what the same program linked natively prints (Fixtures/c/README.md).
@Suite("FixtureMatrix")
struct FixtureMatrixTests {
  static let lkmrun = TestSupport.product("lkmrun")

  /// The optimisation levels every fixture is built at.
  static let optimisations = ["-O0", "-O2", "-Os"]

  /// The code models (and PIC modes) every fixture is built with; see the reference's "What gcc
  /// 12 and clang 21 emit". The kernel model only appears with `-fno-pic`: gcc rejects
  /// `-mcmodel=kernel` under its default PIE ("code model kernel does not support PIC mode")
  /// and with `-fPIC`, and clang silently ignores it there (producing plain PIE code), so
  /// `-mcmodel=kernel` alone and `-fPIC -mcmodel=kernel` are never generated. Every
  /// combination generated here is accepted by both gcc 12 and clang 21; were one rejected by a
  /// compiler, `supported(compiler:model:)` leaves it out rather than counting it as passing.
  static let models: [[String]] = [
    [],  // the compiler's default: PIE
    ["-fPIC"],
    ["-fno-pic"],
    ["-mcmodel=large"],  // PIE, so large PIC: GOT64, GOTOFF64, GOTPC64, PLTOFF64
    ["-fno-pic", "-mcmodel=kernel"],
    ["-fno-pic", "-mcmodel=large"],  // absolute R_X86_64_64 everywhere
  ]

  /// Each code model is built both ways: one section per kind, and one section per function and
  /// per variable.
  static let sectionFlags: [[String]] = [[], ["-ffunction-sections", "-fdata-sections"]]

  /// Whether `compiler` accepts `model`; combinations it rejects are not generated.
  static func supported(compiler: String, model: [String]) -> Bool {
    if model.contains("-mcmodel=kernel") { return model.contains("-fno-pic") }
    return true
  }

  /// The fixtures, by name relative to Fixtures/: "c/globals" (Fixtures/c/globals.c),
  /// "c/weak" (every .c file in Fixtures/c/weak/), "cxx/throw" (Fixtures/cxx/throw.cpp).
  static let fixtureNames: [String] = {
    var names: [String] = []
    for group in ["c", "cxx"] {
      let directory = TestSupport.fixture(group)
      let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      for entry in entries.sorted() {
        var isDirectory: ObjCBool = false
        _ = unsafe FileManager.default.fileExists(
          atPath: directory + "/" + entry, isDirectory: &isDirectory)
        if isDirectory.boolValue {
          names.append(group + "/" + entry)
        } else if entry.hasSuffix(".c") {
          names.append(group + "/" + entry.dropLast(2))
        } else if entry.hasSuffix(".cpp") {
          names.append(group + "/" + entry.dropLast(4))
        }
      }
    }
    return names
  }()

  static let cases: [MatrixCase] = {
    var cases: [MatrixCase] = []
    for fixture in fixtureNames {
      for compiler in TestSupport.compilers {
        for optimisation in optimisations {
          for model in models where supported(compiler: compiler, model: model) {
            for sections in sectionFlags {
              cases.append(
                MatrixCase(
                  fixture: fixture, compiler: compiler, flags: [optimisation] + model + sections))
            }
          }
        }
      }
    }
    return cases
  }()

  @Test("every fixture has its expected output and the matrix covers them all")
  func fixturesArePresent() throws {
    #expect(Self.fixtureNames.count >= 18, "fixtures found: \(Self.fixtureNames)")
    for name in Self.fixtureNames { _ = try Fixture(name) }
    #expect(TestSupport.compilers.count == 2, "compilers: \(TestSupport.compilers)")
  }

  @Test("a fixture program prints what it prints when linked natively", arguments: cases)
  func fixtureRunsUnderLkmrun(_ matrixCase: MatrixCase) throws {
    let fixture = try Fixture(matrixCase.fixture)
    let directory = try TestSupport.temporaryDirectory("matrix")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let flags = matrixCase.flags + fixture.compileFlags
    var objects: [String] = []
    var commands: [String] = []
    for source in fixture.sources {
      let object = directory + "/" + URL(fileURLWithPath: source).lastPathComponent + ".o"
      let command = ([matrixCase.compiler, "-c"] + flags + [source, "-o", object]).map(Self.quoted)
        .joined(separator: " ")
      commands.append(command)
      try TestSupport.shell(command)
      objects.append(object)
    }
    let arguments = fixture.linkFlags + objects + ["--"] + fixture.arguments
    commands.append(([Self.lkmrun] + arguments).map(Self.quoted).joined(separator: " "))
    let result = try Self.runLimited(Self.lkmrun, arguments)
    let context = Comment(rawValue: commands.joined(separator: "\n") + "\n" + result.description)
    #expect(!result.signaled, context)
    #expect(result.status == fixture.status, context)
    #expect(result.stdout == fixture.expectedOutput, context)
    if let expectedError = fixture.expectedError {
      #expect(result.stderr == expectedError, context)
    }
    // Once per fixture, compiler and code model, a second run loads the image the first stored.
    guard matrixCase.flags.first == "-O2" && !matrixCase.flags.contains("-ffunction-sections")
    else { return }
    let cached = try Self.runLimited(Self.lkmrun, ["-v"] + arguments)
    let again = Comment(
      rawValue: commands.joined(separator: "\n") + " (-v, again)\n" + cached.description)
    #expect(!cached.signaled && cached.status == fixture.status, again)
    #expect(cached.stdout == fixture.expectedOutput, again)
    #expect(cached.stderr.contains("  cache hit\n"), again)
  }

  /// Functions and variables generated for the SHN_XINDEX test, each in its own section with
  /// -ffunction-sections -fdata-sections; each function loads its variable, so it also has its
  /// own .rela.text section: three sections per pair, 66,000 in all.
  static let extendedPairs = 22_000

  @Test(
    "an object with more than 65,280 sections links through SHN_XINDEX",
    arguments: TestSupport.compilers)
  func extendedSectionNumbering(_ compiler: String) throws {
    let directory = try TestSupport.temporaryDirectory("xindex")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let n = Self.extendedPairs
    var source = "#include <stdio.h>\n"
    for i in 0..<n { source += "int v\(i) = \(i);\nint f\(i)(void) { return v\(i) * 2; }\n" }
    // The last definitions land in sections numbered above 65,280.
    let called = [0, 1, n / 2, n - 2, n - 1]
    source += "int main(void) {\n  long total = 0;\n"
    for i in called { source += "  total += f\(i)() + v\(i);\n" }
    source += "  printf(\"total %ld\\n\", total);\n  return 0;\n}\n"
    try source.write(toFile: directory + "/xindex.c", atomically: true, encoding: .utf8)
    try TestSupport.shell(
      "\(Self.quoted(compiler)) -c -O0 -ffunction-sections -fdata-sections xindex.c -o xindex.o",
      directory: directory)
    let sections = try Self.sectionCount(directory + "/xindex.o")
    #expect(sections > 65_280, "only \(sections) sections: SHN_XINDEX is not exercised")
    let result = try Self.runLimited(Self.lkmrun, [directory + "/xindex.o"])
    let total = called.reduce(0) { $0 + 3 * $1 }
    #expect(!result.signaled && result.status == 0, "\(result)")
    #expect(result.stdout == "total \(total)\n", "\(result)")
  }
}

extension FixtureMatrixTests {
  /// One cell of the matrix: a fixture, a compiler and the flags it is compiled with.
  struct MatrixCase: Sendable, CustomTestStringConvertible {
    var fixture: String
    var compiler: String
    var flags: [String]

    var testDescription: String {
      "\(fixture) \(URL(fileURLWithPath: compiler).lastPathComponent) \(flags.joined(separator: " "))"
    }
  }

  /// A fixture program: its sources, what it must print, and the settings its header comments
  /// give (`/* status: N */`, `/* cflags: ... */`, `/* lkmflags: ... */`, `/* args: ... */`,
  /// among the first lines of the single source, or of main.c in a directory fixture).
  struct Fixture {
    var sources: [String]
    var expectedOutput: String
    var expectedError: String?
    var status: Int32 = 0
    var compileFlags: [String] = []
    var linkFlags: [String] = []
    var arguments: [String] = []

    init(_ name: String) throws {
      let base = TestSupport.fixture(name)
      let manager = FileManager.default
      var isDirectory: ObjCBool = false
      let main: String
      if unsafe manager.fileExists(atPath: base, isDirectory: &isDirectory), isDirectory.boolValue {
        sources = try manager.contentsOfDirectory(atPath: base).filter { $0.hasSuffix(".c") }
          .sorted()
          .map { base + "/" + $0 }
        main = base + "/main.c"
      } else if manager.fileExists(atPath: base + ".cpp") {
        sources = [base + ".cpp"]
        main = sources[0]
      } else {
        sources = [base + ".c"]
        main = sources[0]
      }
      guard sources.contains(main) else { throw TestSupport.Failure("\(name): no \(main)") }
      expectedOutput = try String(contentsOfFile: base + ".expected", encoding: .utf8)
      expectedError = try? String(contentsOfFile: base + ".stderr", encoding: .utf8)
      let text = try String(contentsOfFile: main, encoding: .utf8)
      for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(3) {
        guard line.hasPrefix("/* "), line.hasSuffix(" */"), let colon = line.firstIndex(of: ":")
        else {
          continue
        }
        let key = line[line.index(line.startIndex, offsetBy: 3)..<colon]
        let value = line[line.index(after: colon)..<line.index(line.endIndex, offsetBy: -3)]
        let words = value.split(separator: " ").map(String.init)
        switch key {
        case "status":
          guard let status = Int32(value.trimmingCharacters(in: .whitespaces)) else {
            throw TestSupport.Failure("\(name): bad status line '\(line)'")
          }
          self.status = status
        case "cflags": compileFlags = words
        case "lkmflags": linkFlags = words
        case "args": arguments = words
        default: continue
        }
      }
    }
  }

  /// Runs `executable` under timeout(1), so that a module that hangs fails its case (status 124)
  /// instead of stalling the suite; timeout re-raises a signal that killed the child, so
  /// `signaled` still tells a crash. The environment adds LKM_FIXTURE=matrix.
  /// The cache of linked images of this test run (lkmrun's default cache, relocated).
  static let cacheHome: String = {
    (try? TestSupport.temporaryDirectory("matrix-cache")) ?? NSTemporaryDirectory()
      + "/matrix-cache"
  }()

  static func runLimited(_ executable: String, _ arguments: [String]) throws -> TestSupport.Result {
    var environment = ProcessInfo.processInfo.environment
    environment["LKM_FIXTURE"] = "matrix"
    environment["XDG_CACHE_HOME"] = cacheHome
    environment["LKM_NO_CACHE"] = nil
    return try TestSupport.run(
      "/usr/bin/timeout", ["--kill-after=5", "60", executable] + arguments, environment: environment
    )
  }

  /// The number of sections in an ELF64 object, following extended numbering (e_shnum 0: the
  /// count is section 0's sh_size).
  static func sectionCount(_ path: String) throws -> Int {
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    func load(_ offset: Int, _ size: Int) -> Int {
      (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }
    guard bytes.count >= 64 else { throw TestSupport.Failure("\(path): not an ELF64 object") }
    let count = load(0x3c, 2)
    if count != 0 { return count }
    let sectionHeaders = load(0x28, 8)
    guard bytes.count >= sectionHeaders + 64 else {
      throw TestSupport.Failure("\(path): no section 0")
    }
    return load(sectionHeaders + 0x20, 8)
  }

  /// `text` quoted for /bin/sh.
  static func quoted(_ text: String) -> String {
    text.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=+,:".contains($0) })
      ? text
      : "'"
        + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''")
        + "'"
  }
}
