import Foundation
import TestSupport
import Testing

/// docs/writing-modules.md opens with a complete module and a session with it: the module is
/// Fixtures/lkm/skeleton/counter.c, and the session is what the tools print.
@Suite("docs/writing-modules.md: a complete module")
struct WritingAModuleTests {
  /// The section's code blocks: the module (```c) and the session (the next ``` block).
  static func blocks() throws -> (module: String, session: String) {
    let document = try String(
      contentsOfFile: TestSupport.packageRoot + "/docs/writing-modules.md", encoding: .utf8)
    let section = try #require(document.firstRange(of: "## A complete module\n"))
    let rest = document[section.upperBound...]
    let c = try #require(rest.firstRange(of: "```c\n"))
    let cEnd = try #require(rest[c.upperBound...].firstRange(of: "```\n"))
    let module = String(rest[c.upperBound..<cEnd.lowerBound])
    let after = rest[cEnd.upperBound...]
    let s = try #require(after.firstRange(of: "```\n"))
    let sEnd = try #require(after[s.upperBound...].firstRange(of: "```\n"))
    return (module, String(after[s.upperBound..<sEnd.lowerBound]))
  }

  /// Addresses, the pid and the symbol table's size vary.
  static func mask(_ text: String) -> String {
    text.replacing(#/[0-9a-f]{16}/#, with: "ADDRESS")
      .replacing(#/for pid [0-9]+/#, with: "for pid PID")
      .replacing(#/added: [0-9]+ bytes/#, with: "added: N bytes")
  }

  @Test("the document's module is the skeleton fixture, and its session is what the tools print")
  func skeleton() throws {
    let (module, session) = try Self.blocks()
    let fixture = try String(
      contentsOfFile: TestSupport.fixture("lkm/skeleton/counter.c"), encoding: .utf8)
    #expect(module == fixture)
    let dir = try TestSupport.temporaryDirectory("skeleton")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try TestSupport.shell(
      "cc -c -Wall -Wextra -Wno-unused-parameter -Werror -D_KERNEL -I '\(KernelFixtures.include)' '\(TestSupport.fixture("lkm/skeleton/counter.c"))' -o counter.o",
      directory: dir)
    var transcript = """
      $ cc -c -D_KERNEL -I Sources/CLKM/kernel/include counter.c
      $ lkmd --device /tmp/lkm/lkm &
      lkmd: ready on /tmp/lkm/lkm
      $ export LKM_DEVICE=/tmp/lkm/lkm

      """
    try withKernel { k in
      func step(_ command: String, _ arguments: [String]) throws {
        let run = try TestSupport.run(
          TestSupport.product(arguments[0]), Array(arguments.dropFirst()),
          environment: k.environment, directory: dir)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(command): \(run)")
        transcript += "$ \(command)\n" + run.stdout
      }
      try step("modload counter.o", ["modload", "counter.o"])
      try step("modstat", ["modstat"])
      try step("lkmctl syscall 210 5", ["lkmctl", "syscall", "210", "5"])
      try step("lkmctl dmesg", ["lkmctl", "dmesg"])
      try step("modunload -n counter", ["modunload", "-n", "counter"])
    }
    #expect(Self.mask(session) == Self.mask(transcript))
  }
}
