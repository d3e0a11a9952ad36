import Foundation
import TestSupport
import Testing

/// modfuzz's table of verdicts (the summary's other lines have times, rates and paths).
func table(_ output: String) -> String {
  output.split(separator: "\n").filter { $0.hasPrefix("|") }.joined(separator: "\n")
}

func modfuzz(_ arguments: [String]) throws -> TestSupport.Result {
  let findings = try TestSupport.temporaryDirectory("modfuzz-findings")
  defer { try? FileManager.default.removeItem(atPath: findings) }
  return try TestSupport.run(
    TestSupport.product("modfuzz"), arguments + ["--quiet", "--timeout", "10", "-o", findings],
    directory: TestSupport.packageRoot)
}

@Suite("modfuzz", .serialized)
struct ModFuzzTests {
  @Test("20,000 link-only inputs (seed 5) find no loader crash, timeout or out of memory")
  func linkOnlyCampaign() throws {
    let result = try modfuzz(["-j", "2", "-n", "20000", "--seed", "5", "--link-only"])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.contains("| loader crash | 0 | 0.00% |"), "\(result.stdout)")
    #expect(result.stdout.contains("| timeout | 0 | 0.00% |"))
    #expect(result.stdout.contains("| out of memory | 0 | 0.00% |"))
    // A mutated symbol can become an IFUNC whose resolver (module code, run by the link) ends
    // the process: a module fault, which is the module's and not the loader's.
    #expect(
      result.stdout.contains("Loader bugs (a loader crash, loader timeout or out of memory): 0\n"),
      "\(result.stdout)")
  }

  // Seeded with the sandbox's own modules: mutated code from richer seeds can jump into the
  // middle of kernel functions, which the sandbox calls a loader crash "after module code ran",
  // and whether a given input does depends on the build's layout.
  @Test(
    "5,000 inputs through the whole lifecycle (seed 6) find no loader crash, timeout or out of memory"
  )
  func lifecycleCampaign() throws {
    let seeds = [try objectFile("good"), try objectFile("nullderef")]
    let result = try modfuzz(["-j", "2", "-n", "5000", "--seed", "6"] + seeds)
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.contains("| loader crash | 0 | 0.00% |"), "\(result.stdout)")
    #expect(
      result.stdout.contains("Loader bugs (a loader crash, loader timeout or out of memory): 0\n"),
      "\(result.stdout)")
  }

  @Test("a campaign is the same for any job count")
  func deterministic() throws {
    let one = try modfuzz(["-j", "1", "-n", "1500", "--seed", "9", "--link-only"])
    let two = try modfuzz(["-j", "2", "-n", "1500", "--seed", "9", "--link-only"])
    #expect(one.status == 0 && two.status == 0)
    #expect(table(one.stdout) == table(two.stdout))
    #expect(table(one.stdout).contains("| rejected |"))
  }

  @Test("--run reproduces a verdict and exits 0 for a module fault")
  func replay() throws {
    let object = try objectFile("nullderef")
    let result = try TestSupport.run(TestSupport.product("modfuzz"), ["--run", object])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.hasPrefix("\(object): module fault: SIGSEGV in 'nullderef_"))
  }

  @Test("expected module faults are counted, not kept, unless --keep-module-faults")
  func moduleFaultsCounted() throws {
    let seeds = [try objectFile("nullderef")]
    for keep in [false, true] {
      let findings = try TestSupport.temporaryDirectory("modfuzz-findings")
      defer { try? FileManager.default.removeItem(atPath: findings) }
      let result = try TestSupport.run(
        TestSupport.product("modfuzz"),
        ["-j", "1", "-n", "100", "--seed", "3", "--quiet", "--timeout", "10", "-o", findings]
          + (keep ? ["--keep-module-faults"] : []) + seeds)
      #expect(result.status == 0, "\(result)")
      let faults = try #require(
        result.stdout.firstMatch(
          of:
            #/Module faults \(the modules' own faults, timeouts and memory, expected of mutated modules\): ([0-9]+) distinct/#
        ),
        "\(result.stdout)")
      let distinct = Int(faults.1)!
      #expect(distinct > 0)
      let files = (try? FileManager.default.contentsOfDirectory(atPath: findings)) ?? []
      if keep {
        #expect(files.count == 2 * distinct, "\(files)")
        #expect(result.stdout.contains("distinct, examples kept in \(findings)\n"))
      } else {
        #expect(files.isEmpty, "\(files)")
        #expect(
          result.stdout.contains(
            "distinct (counted; --keep-module-faults keeps an example of each)\n"))
      }
    }
  }

  @Test("the status line fits the terminal's width", arguments: [60, 80])
  func statusLineWidth(_ columns: Int) throws {
    // A terminal (script(1)'s pseudo-terminal) of COLUMNS columns; every status line drawn
    // (after each carriage return) fits in it.
    let seed = try objectFile("nullderef")
    let findings = try TestSupport.temporaryDirectory("modfuzz-findings")
    defer { try? FileManager.default.removeItem(atPath: findings) }
    let command =
      "stty cols \(columns); '\(TestSupport.product("modfuzz"))' -j 1 -t 2.5 --seed 4 -o '\(findings)' '\(seed)' >/dev/null"
    let result = try TestSupport.run("/usr/bin/script", ["-qfec", command, "/dev/null"])
    let lines = result.stdout.split(separator: "\r").map {
      $0.replacingOccurrences(of: "\u{1b}[K", with: "").trimmingCharacters(in: .newlines)
    }.filter { $0.contains(" inputs ") }
    #expect(!lines.isEmpty, "\(result)")
    for line in lines {
      #expect(line.count < columns, "\(line.count) columns: \(line)")
    }
  }
}
