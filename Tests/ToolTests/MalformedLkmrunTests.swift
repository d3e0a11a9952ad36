import Foundation
import TestSupport
import Testing

extension MalformedCase {
  /// Files on which the linker currently traps instead of refusing them; each is a reported
  /// ModuleLinker bug. Remove a file from here when its fix lands (the test then fails to
  /// remind you).
  static let knownLinkerBugs: Set<String> = []
}

@Suite("Malformed corpus: lkmrun")
struct MalformedLkmrunTests {
  static let lkmrun = TestSupport.product("lkmrun")
  /// A hang is a failure: coreutils timeout(1) ends lkmrun (exit 124) and re-raises any signal
  /// that killed it, so a crash still reads as one.
  static let seconds = 10

  @Test("the corpus is present")
  func corpusIsPresent() {
    #expect(MalformedCase.all.count >= 100)
  }

  /// lkmrun has thread-local storage (the linker alone refuses it): thread-local sections and
  /// symbols are valid, and a TLS relocation against a variable that is not thread-local says so.
  static let acceptedWithThreadLocalStorage: Set<String> = ["tls-section.o", "tls-symbol.o"]
  static let threadLocalMessages: [String: String] = [
    "rela-type-19.o":
      "'counter' is used as a thread-local variable, but it is not one (or is in a host library's dynamic TLS, which modules cannot reach)",
    "rela-type-22.o":
      "'counter' is used as a thread-local variable, but it is not one (or is in a host library's dynamic TLS, which modules cannot reach)",
    "rela-type-23.o":
      "rela-type-23.o:main+0x7 (.text+0x7): 'counter' is used as a thread-local variable, but it is not one (or is in a host library's dynamic TLS, which modules cannot reach)",
  ]

  @Test(
    "lkmrun -n refuses a malformed file with one exact line, exit 1 and no signal",
    arguments: MalformedCase.all.filter {
      $0.stage != .valid && !acceptedWithThreadLocalStorage.contains($0.file)
    })
  func refused(_ input: MalformedCase) throws {
    let start = ContinuousClock.now
    let result = try TestSupport.run(
      "/usr/bin/timeout", ["-k", "2", String(Self.seconds), Self.lkmrun, "-n", input.file],
      directory: MalformedCase.directory)
    let elapsed = ContinuousClock.now - start
    let check = {
      #expect(!result.signaled, "killed by signal \(result.status)\n\(result)")
      #expect(result.status != 124, "timed out after \(Self.seconds) s")
      #expect(result.status == 1, "\(result)")
      #expect(result.stdout == "")
      let message = Self.threadLocalMessages[input.file] ?? input.message
      #expect(result.stderr == "lkmrun: \(message)\n")
      #expect(elapsed < .seconds(Self.seconds))
    }
    if MalformedCase.knownLinkerBugs.contains(input.file) {
      withKnownIssue("ModuleLinker traps on \(input.file)") { check() }
    } else {
      check()
    }
  }

  @Test(
    "lkmrun -n links a control file silently",
    arguments: MalformedCase.all.filter {
      $0.stage == .valid || acceptedWithThreadLocalStorage.contains($0.file)
    })
  func control(_ input: MalformedCase) throws {
    let result = try TestSupport.run(
      "/usr/bin/timeout", ["-k", "2", String(Self.seconds), Self.lkmrun, "-n", input.file],
      directory: MalformedCase.directory)
    #expect(result.status == 0 && !result.signaled, "\(result)")
    #expect(result.stdout == "" && result.stderr == "")
  }
}
