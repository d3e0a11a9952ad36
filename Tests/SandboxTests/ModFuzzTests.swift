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
    #expect(result.stdout.contains("(0 loader crash, loader timeout or out of memory;"), "\(result.stdout)")
  }

  // Seeded with the sandbox's own modules: mutated code from richer seeds can jump into the
  // middle of kernel functions, which the sandbox calls a loader crash "after module code ran",
  // and whether a given input does depends on the build's layout.
  @Test("5,000 inputs through the whole lifecycle (seed 6) find no loader crash, timeout or out of memory")
  func lifecycleCampaign() throws {
    let seeds = [try objectFile("good"), try objectFile("nullderef")]
    let result = try modfuzz(["-j", "2", "-n", "5000", "--seed", "6"] + seeds)
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout.contains("| loader crash | 0 | 0.00% |"), "\(result.stdout)")
    #expect(result.stdout.contains("(0 loader crash, loader timeout or out of memory;"), "\(result.stdout)")
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
}
