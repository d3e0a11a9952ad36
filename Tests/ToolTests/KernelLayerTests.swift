import Foundation
import TestSupport
import Testing

/// The kernel's C files call each other one way, in the order clkm_internal.h documents: this
/// reads that order from the header and checks every cross-file reference of the compiled
/// objects (nm) against it.
@Suite("kernel: the C files call each other one way")
struct KernelLayerTests {
  /// The documented order: the files named at the start of each entry's line, those of one line
  /// (the subsystems) on one level.
  static func documentedLevels() throws -> [Set<String>] {
    let header = try String(
      contentsOfFile: TestSupport.packageRoot + "/Sources/CLKM/clkm_internal.h", encoding: .utf8)
    var levels: [Set<String>] = []
    for line in header.split(separator: "\n") {
      guard line.hasPrefix(" *   "), let first = line.dropFirst(5).split(separator: " ").first,
        first.hasSuffix(".c")
      else { continue }
      var level: Set<String> = [String(first.dropLast(2))]
      for match in line.matches(of: #/; ([a-z_]+)\.c(?: |$)/#) { level.insert(String(match.1)) }
      levels.append(level)
    }
    return levels
  }

  @Test("no file calls one documented after it, or a sibling subsystem")
  func oneWay() throws {
    let levels = try Self.documentedLevels()
    #expect(levels.count >= 8, "levels: \(levels)")
    var level: [String: Int] = [:]
    for (i, files) in levels.enumerated() { for f in files { level[f] = i } }
    let objects = TestSupport.productsDirectory + "/CLKM.build"
    let files = try FileManager.default.contentsOfDirectory(atPath: objects).filter {
      $0.hasSuffix(".c.o")
    }
    #expect(Set(files.map { String($0.dropLast(4)) }) == Set(level.keys), "undocumented files")
    var defined: [String: String] = [:]
    var used: [String: [String]] = [:]
    for file in files {
      let name = String(file.dropLast(4))
      for line in try TestSupport.run("/usr/bin/nm", [objects + "/" + file]).stdout.split(
        separator: "\n")
      {
        let fields = line.split(separator: " ")
        if fields.count == 3, "TDBRV".contains(fields[1]) { defined[String(fields[2])] = name }
        if fields.count == 2, fields[0] == "U" { used[name, default: []].append(String(fields[1])) }
      }
    }
    var wrong: [String] = []
    for (file, symbols) in used {
      for symbol in symbols {
        guard let owner = defined[symbol], owner != file, let mine = level[file],
          let theirs = level[owner]
        else { continue }
        if theirs >= mine { wrong.append("\(file).c uses \(symbol) of \(owner).c") }
      }
    }
    #expect(wrong.isEmpty, "\(wrong.sorted().joined(separator: "\n"))")
  }
}
