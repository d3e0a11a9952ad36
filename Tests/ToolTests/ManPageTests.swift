import Foundation
import TestSupport
import Testing

/// The manual pages (man/): mdoc that mandoc(1) finds nothing wrong with, installed by
/// scripts/install-man, and in step with the tools they describe.
@Suite("manual pages")
struct ManPageTests {
  static let pages = [
    "modload.8", "modunload.8", "modstat.8", "lkm.4", "lkmd.8", "lkmctl.8", "lkmrun.1",
    "modfuzz.1", "lkm-mount.8",
  ]

  @Test("mandoc -T lint finds no warning or error", arguments: pages)
  func lint(_ page: String) throws {
    let path = TestSupport.packageRoot + "/man/" + page
    let run = try TestSupport.run("/usr/bin/mandoc", ["-T", "lint", "-W", "warning", path])
    #expect(run.status == 0 && run.stdout.isEmpty && run.stderr.isEmpty, "\(run)")
    // It renders, with its name first.
    let text = try TestSupport.run("/usr/bin/mandoc", ["-T", "ascii", path])
    let name = page.split(separator: ".")[0].uppercased()
    #expect(text.status == 0 && text.stdout.hasPrefix(name + "("), "\(text.stdout.prefix(80))")
  }

  @Test("every option of modload, modunload and modstat is documented in its page")
  func optionsDocumented() throws {
    let options = [
      "modload.8": [
        "d", "n", "S", "s", "v", "A", "e", "o", "p", "-sandbox", "-device", "h", "-help",
      ],
      "modunload.8": ["f", "i", "n", "p", "-device", "h", "-help"],
      "modstat.8": ["v", "i", "n", "-device", "h", "-help"],
    ]
    for (page, flags) in options {
      let text = try String(
        contentsOfFile: TestSupport.packageRoot + "/man/" + page, encoding: .utf8)
      let items = text.split(separator: "\n").filter { $0.hasPrefix(".It ") }.map { $0 + " " }
      for flag in flags {
        #expect(
          items.contains { $0.contains("Fl \(flag) ") }, "\(page) does not describe -\(flag)")
      }
    }
  }

  @Test(
    "every long option a Swift tool's --help lists is in its page",
    arguments: [
      ("lkmd", "lkmd.8"), ("lkmrun", "lkmrun.1"), ("modfuzz", "modfuzz.1"),
      ("lkm-mount", "lkm-mount.8"),
    ])
  func longOptionsDocumented(_ tool: String, _ page: String) throws {
    let help = try TestSupport.run(TestSupport.product(tool), ["--help"]).stdout
    let text = try String(
      contentsOfFile: TestSupport.packageRoot + "/man/" + page, encoding: .utf8)
    let options = Set(help.matches(of: #/(?:^|[\s\[,(|])--([a-z][a-z-]*)/#).map { String($0.1) })
    #expect(options.count >= 2, "\(help)")
    for option in options {
      #expect(text.contains("Fl -\(option)"), "\(page) does not describe --\(option)")
    }
  }

  @Test("every lkmctl command is in lkmctl.8")
  func lkmctlCommands() throws {
    let help = try TestSupport.run(TestSupport.product("lkmctl"), ["--help"]).stdout
    let text = try String(
      contentsOfFile: TestSupport.packageRoot + "/man/lkmctl.8", encoding: .utf8)
    guard let start = help.firstRange(of: "SUBCOMMANDS:\n") else {
      Issue.record("no SUBCOMMANDS in \(help)")
      return
    }
    // The commands' lines, up to the blank line that ends the list.
    let list = help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
      .prefix { !$0.isEmpty }
    let commands = list.compactMap { line -> String? in
      guard line.hasPrefix("  "), !line.hasPrefix("   "),
        let word = line.split(separator: " ").first
      else { return nil }
      return String(word)
    }
    #expect(commands.count >= 15, "\(commands)")
    for command in commands where command != "help" {
      #expect(text.contains(".It Cm \(command)"), "lkmctl.8 does not describe \(command)")
    }
  }

  @Test("every option of every lkmctl command is in that command's entry of lkmctl.8")
  func lkmctlCommandOptions() throws {
    let help = try TestSupport.run(TestSupport.product("lkmctl"), ["--help"]).stdout
    let text = try String(
      contentsOfFile: TestSupport.packageRoot + "/man/lkmctl.8", encoding: .utf8)
    let commands = help.matches(of: #/\n  ([a-z]+) {2,}/#).map { String($0.1) }.filter {
      $0 != "help"
    }
    #expect(commands.count >= 15, "\(commands)")
    // Each command's entry: from its .It line to the next command's.
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for command in commands {
      guard let start = lines.firstIndex(where: { $0.hasPrefix(".It Cm \(command)") }) else {
        Issue.record("lkmctl.8 does not describe \(command)")
        continue
      }
      let end =
        lines[(start + 1)...].firstIndex { $0.hasPrefix(".It Cm ") || $0 == ".El" }
        ?? lines.endIndex
      let entry = lines[start..<end].joined(separator: "\n") + "\n"
      let usage = try TestSupport.run(TestSupport.product("lkmctl"), [command, "--help"]).stdout
      // OPTIONS lines: "  -o, --offset <offset>", "  -T", "  --device <path>".
      for match in usage.matches(of: #/\n  (-[A-Za-z])?(?:, )?(--[a-z-]+)?/#) {
        let short = match.1.map { String($0.dropFirst()) }
        let long = match.2.map { String($0.dropFirst()) }
        guard short != nil || long != nil, long != "-device", long != "-help" else { continue }
        let documented = [short, long].compactMap { $0 }.contains { name in
          entry.contains("Fl \(name) ") || entry.contains("Fl \(name)\n")
        }
        #expect(documented, "lkmctl.8's \(command) does not describe \(match.0.dropFirst())")
      }
    }
  }

  @Test("scripts/install-man installs every page under PREFIX")
  func install() throws {
    let prefix = try TestSupport.temporaryDirectory("man-prefix")
    defer { try? FileManager.default.removeItem(atPath: prefix) }
    for _ in 0..<2 {  // idempotent
      let run = try TestSupport.run(
        TestSupport.packageRoot + "/scripts/install-man", [prefix])
      #expect(run.status == 0, "\(run)")
    }
    for page in Self.pages {
      let section = page.split(separator: ".")[1]
      let installed = "\(prefix)/share/man/man\(section)/\(page)"
      #expect(
        FileManager.default.contentsEqual(
          atPath: installed, andPath: TestSupport.packageRoot + "/man/" + page), "\(installed)")
    }
  }
}
