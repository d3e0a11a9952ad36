import ELFObject
import Foundation
import ModuleLinker
import TestSupport
import Testing

/// One hand-written assembler file of `Fixtures/relocations`, and what its first lines promise.
///
/// `<kind>.s` is self-checking: `main` computes through each relocated field and returns 0 only
/// if the value is right; line one reads `# expect: 0`. `<kind>_overflow.s` must not link: its
/// leading `# expect-error: ` lines are the error's lines, exactly, with the object named
/// `<name>.o` and `{address}` standing for a `0x` number that depends on where the module was
/// mapped. The first `# R_X86_64_<KIND>:` comment names the type the object must contain.
struct RelocationFixture: Sendable, CustomTestStringConvertible {
  enum Expectation: Sendable {
    case status(Int32)
    case errors([String])
  }

  /// The file name without `.s`: `gotpcrel`, `pc8_overflow`.
  let name: String
  let path: String
  /// The psABI name of the type under test: `R_X86_64_GOTPCREL`.
  let type: String
  let expectation: Expectation

  var testDescription: String { name }

  static let directory = TestSupport.fixture("relocations")

  /// Every fixture, by name.
  static let all: [RelocationFixture] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.hasSuffix(".s") }.sorted().map { file in
      let path = directory + "/" + file
      let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      var errors: [String] = []
      var status: Int32?
      for line in lines {
        if line.hasPrefix("# expect-error: ") {
          errors.append(String(line.dropFirst("# expect-error: ".count)))
        } else if line.hasPrefix("# expect: ") {
          status = Int32(line.dropFirst("# expect: ".count).trimmingCharacters(in: .whitespaces))
        } else {
          break
        }
      }
      let type =
        lines.first { $0.hasPrefix("# R_X86_64_") }
        .map { String($0.dropFirst(2).prefix { $0 != ":" }) } ?? "(no '# R_X86_64_…:' line)"
      let expectation: Expectation = errors.isEmpty ? .status(status ?? -1) : .errors(errors)
      return RelocationFixture(
        name: String(file.dropLast(2)), path: path, type: type, expectation: expectation)
    }
  }()

  /// Whether the type under test is one of thread-local storage's (applied only by a link with
  /// a static TLS reservation: the fixture runs in lkmrun and in ld's static executable).
  var isThreadLocal: Bool {
    X86_64Relocation.allCases.contains {
      $0.abiName == type && $0.isSupportedWithThreadLocalStorage && !$0.isSupported
    }
  }

  static var runnable: [RelocationFixture] {
    all.filter { if case .status = $0.expectation { true } else { false } }
  }
  static var failing: [RelocationFixture] {
    all.filter { if case .errors = $0.expectation { true } else { false } }
  }

  /// Assembles the fixture with `as` into `directory` and returns the object's path,
  /// `<directory>/<name>.o`.
  func assemble(into directory: String) throws -> String {
    let object = directory + "/" + name + ".o"
    try TestSupport.shell("as --64 -o '\(object)' '\(path)'")
    return object
  }

  /// Assembles the fixture into a temporary directory, calls `body` with the object's path, and
  /// removes the directory.
  func withObject<R>(_ body: (String) throws -> R) throws -> R {
    let directory = try TestSupport.temporaryDirectory("reloc")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(assemble(into: directory))
  }

  /// The relocation types the object at `path` contains, by psABI name.
  static func types(in path: String) throws -> Set<String> {
    let object = try ObjectFile(path: path)
    var names: Set<String> = []
    for section in object.relocationSections {
      for entry in section.entries { names.insert(X86_64Relocation.name(of: entry.type)) }
    }
    return names
  }
}

/// Symbols no module can reach with a 32-bit displacement, for forcing stubs and range errors:
/// addresses in the kernel half, which no user mapping is within 2 GiB of.
final class FarSymbols: SymbolProvider {
  let providerName = "far"
  static let data: UInt64 = 0xffff_8000_0000_0000
  static let function: UInt64 = 0xffff_8000_0000_1000
  static let otherFunction: UInt64 = 0xffff_8000_0000_2000

  func lookup(_ name: String) -> ProvidedSymbol? {
    switch name {
    case "far_data": ProvidedSymbol(address: Self.data, isFunction: false, size: 8)
    case "far_function": ProvidedSymbol(address: Self.function, isFunction: true)
    case "far_other_function": ProvidedSymbol(address: Self.otherFunction, isFunction: true)
    default: nil
    }
  }
}

/// Whether `line` matches `pattern`, where `{address}` in the pattern stands for a `0x` number.
func matches(_ line: String, pattern: String) -> Bool {
  let parts = pattern.components(separatedBy: "{address}").map {
    NSRegularExpression.escapedPattern(for: $0)
  }
  let regex = "^" + parts.joined(separator: "0x[0-9a-f]+") + "$"
  return line.range(of: regex, options: .regularExpression) != nil
}

@Suite("Relocation kinds")
struct RelocationKindTests {
  static let lkmrun = TestSupport.product("lkmrun")

  @Test(
    "each fixture's object holds the relocation type it is named for",
    arguments: RelocationFixture.all)
  func fixtureHoldsItsType(_ fixture: RelocationFixture) throws {
    let types = try fixture.withObject { try RelocationFixture.types(in: $0) }
    #expect(types.contains(fixture.type), "\(fixture.name).s holds \(types.sorted())")
  }

  @Test("a self-checking module computes every field right", arguments: RelocationFixture.runnable)
  func runs(_ fixture: RelocationFixture) throws {
    guard case .status(let expected) = fixture.expectation else { return }
    try #require(
      FileManager.default.isExecutableFile(atPath: Self.lkmrun),
      "\(Self.lkmrun) is missing: run swift build --build-tests first")
    let result = try fixture.withObject { try TestSupport.run(Self.lkmrun, [$0]) }
    #expect(!result.signaled, "\(fixture.name): \(result)")
    #expect(
      result.status == expected,
      "\(fixture.name): main returned the number of the failed check\n\(result)")
    #expect(result.stderr == "", "\(fixture.name): \(result)")
  }

  @Test(
    "GNU ld, linking statically without relaxing, gets the same result",
    arguments: RelocationFixture.runnable)
  func nativeResult(_ fixture: RelocationFixture) throws {
    // Checks the fixture's own checks: ld is the reference for every kind here.
    guard case .status(let expected) = fixture.expectation else { return }
    let result = try fixture.withObject { object in
      let program = object.dropLast(2) + ".native"
      try TestSupport.shell("gcc -static -Wl,--no-relax -o '\(program)' '\(object)'")
      return try TestSupport.run(String(program), [])
    }
    #expect(!result.signaled && result.status == expected, "\(fixture.name): \(result)")
  }

  @Test(
    "a value that does not fit its field is refused with an exact message",
    arguments: RelocationFixture.failing)
  func overflows(_ fixture: RelocationFixture) throws {
    guard case .errors(let expected) = fixture.expectation else { return }
    // Named as in the expectations, wherever the object was assembled.
    let bytes = try fixture.withObject { try FileBytes(contentsOf: $0) }
    let object = try ObjectFile(
      bytes: bytes, offset: 0, count: bytes.count, name: fixture.name + ".o")
    let host = try HostSymbolProvider(libraries: [])
    let linker = ModuleLinker(options: LinkOptions(providers: [host, FarSymbols()]))
    let error = #expect(throws: LinkError.self) { _ = try linker.link([.object(object)]) }
    guard let error else { return }
    #expect(error.code == .fieldOverflow)
    let lines = error.lines
    #expect(lines.count == expected.count, "\(fixture.name): \(lines.joined(separator: "\n"))")
    for (line, pattern) in zip(lines, expected) {
      #expect(
        matches(line, pattern: pattern),
        "\(fixture.name):\n  got      \(line)\n  expected \(pattern)")
    }
  }

  @Test(
    "every supported type has a fixture (the thread-local ones too, run by lkmrun's reservation), and every narrow one an overflow fixture"
  )
  func coverage() {
    let names = Set(RelocationFixture.all.map(\.name))
    for type in X86_64Relocation.allCases where type.isSupportedWithThreadLocalStorage {
      let kind = type.abiName.dropFirst("R_X86_64_".count).lowercased()
      #expect(names.contains(kind), "no Fixtures/relocations/\(kind).s")
    }
    let narrow: [X86_64Relocation] = [
      .direct8, .direct16, .pc8, .pc16, .direct32, .direct32S, .pc32, .plt32, .size32, .got32,
      .gotpc32, .gotpcrel, .gotpcrelx, .rexGotpcrelx,
    ]
    for type in narrow {
      let kind = type.abiName.dropFirst("R_X86_64_".count).lowercased()
      #expect(names.contains(kind + "_overflow"), "no Fixtures/relocations/\(kind)_overflow.s")
    }
  }

  @Test("the expectation patterns match what they should and nothing else")
  func patterns() {
    #expect(
      matches("'f' at 0x7f00 is 0x10 bytes away", pattern: "'f' at {address} is 0x10 bytes away"))
    #expect(
      !matches("'f' at 0x7f00 is 0x11 bytes away", pattern: "'f' at {address} is 0x10 bytes away"))
    #expect(
      !matches("'f' at 7f00 is 0x10 bytes away", pattern: "'f' at {address} is 0x10 bytes away"))
    #expect(matches("a (b) [c] +0x1", pattern: "a (b) [c] +0x1"))
  }
}

/// Host data the module can be placed near (far from ``FarSymbols``).
final class NearData: SymbolProvider {
  let providerName = "near"
  static let address: UInt64 = 0x1000_0000

  func lookup(_ name: String) -> ProvidedSymbol? {
    name == "near_data" ? ProvidedSymbol(address: Self.address, isFunction: false, size: 8) : nil
  }
}

@Suite("Placement forced by data")
struct PlacementCauseTests {
  @Test("a PC-relative reference out of reach names the reference that placed the module")
  func namesTheReferenceThatPlacedIt() throws {
    let directory = try TestSupport.temporaryDirectory("cause")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try """
    \t.text
    \t.globl main
    \t.type main, @function
    main:
    \tmov near_data(%rip), %rax
    \tadd near_data+8(%rip), %rax
    \tmov far_data(%rip), %rcx
    \tret
    \t.size main, .-main

    """.write(toFile: directory + "/two.s", atomically: true, encoding: .utf8)
    try TestSupport.shell("as --64 -o two.o two.s", directory: directory)
    let bytes = try FileBytes(contentsOf: directory + "/two.o")
    let object = try ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: "two.o")
    let linker = ModuleLinker(options: LinkOptions(providers: [NearData(), FarSymbols()]))
    let error = #expect(throws: LinkError.self) { _ = try linker.link([.object(object)]) }
    #expect(
      error.map {
        matches(
          $0.lines.joined(separator: "\n"),
          pattern:
            "two.o:main+0x11 (.text+0x11): R_X86_64_PC32 against 'far_data': 'far_data' at "
            + "0xffff800000000000 is {address} bytes away, beyond the ±2 GiB a 32-bit PC-relative "
            + "reference reaches (the module was placed within reach of 'near_data' at 0x10000000, "
            + "which two.o:main+0x3 (.text+0x3) references PC-relatively (and 1 more place)); "
            + "recompile with -fPIC (or -mno-direct-extern-access) so that it is reached through "
            + "the GOT")
      } == true, "\(String(describing: error?.lines))")
  }
}
