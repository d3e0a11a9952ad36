import Foundation
import TestSupport
import Testing

/// A running lkmd on a temporary device, stopped (SIGTERM) when the body returns.
func withLkmd(_ arguments: [String] = [], _ body: (String) throws -> Void) throws {
  let kernel = try KernelProcess(arguments)
  defer { kernel.stop() }
  try body(kernel.device)
}

func objectFile(_ name: String) throws -> String {
  let directory = try TestSupport.temporaryDirectory("sandbox-objects")
  let path = "\(directory)/\(name).o"
  try Data(modules[name]!).write(to: URL(fileURLWithPath: path))
  return path
}

@Suite("modload --sandbox and lkmd --trial-load", .serialized)
struct SandboxToolTests {
  @Test("modload --sandbox prints the verdict and loads a module that loaded in the sandbox")
  func modloadGood() throws {
    let good = try objectFile("good")
    try withLkmd { device in
      let result = try TestSupport.run(
        TestSupport.product("modload"), ["--sandbox", "--device", device, good])
      #expect(result.status == 0, "\(result)")
      #expect(result.stdout == "Module loaded as ID 0\n")
      #expect(
        result.stderr == "modload: sandbox: loaded: LKM_E_LOAD 0, LKM_E_STAT 0, LKM_E_UNLOAD 0\n")
    }
  }

  @Test(
    "modload --sandbox refuses a module that faults in the sandbox, and the kernel never sees it")
  func modloadFault() throws {
    let bad = try objectFile("nullderef")
    try withLkmd { device in
      let result = try TestSupport.run(
        TestSupport.product("modload"), ["--sandbox", "--device", device, bad])
      #expect(result.status == 1, "\(result)")
      #expect(result.stdout.isEmpty)
      let lines = result.stderr.split(separator: "\n")
      #expect(lines.count == 2)
      #expect(
        lines.first?.hasPrefix("modload: sandbox: module fault: SIGSEGV in 'nullderef_") == true,
        "\(result)")
      #expect(lines.last == "modload: sandbox: not loading \(bad)")
      let dmesg = try TestSupport.run(TestSupport.product("lkmctl"), ["dmesg", "--device", device])
      #expect(!dmesg.stdout.contains("oops"))
    }
  }

  @Test(
    "lkmd --trial-load refuses a faulting module with EFAULT and the verdict, and loads a good one")
  func trialLoad() throws {
    let bad = try objectFile("nullderef")
    let good = try objectFile("good")
    try withLkmd(["--trial-load"]) { device in
      let refused = try TestSupport.run(TestSupport.product("modload"), ["--device", device, bad])
      #expect(refused.status == 14, "\(refused)")
      let lines = refused.stderr.split(separator: "\n")
      #expect(
        lines.first?.hasPrefix("modload: sandbox: module fault: SIGSEGV in 'nullderef_") == true,
        "\(refused)")
      #expect(lines.last == "modload: error initializing module: Bad address")
      let loaded = try TestSupport.run(TestSupport.product("modload"), ["--device", device, good])
      #expect(loaded.status == 0 && loaded.stdout == "Module loaded as ID 0\n", "\(loaded)")
      let dmesg = try TestSupport.run(TestSupport.product("lkmctl"), ["dmesg", "--device", device])
      #expect(
        dmesg.stdout.contains(
          "lkmd: trial load of '\(good)': loaded: LKM_E_LOAD 0, LKM_E_STAT 0, LKM_E_UNLOAD 0"))
      #expect(dmesg.stdout.contains("lkmd: trial load of '\(bad)': module fault: SIGSEGV"))
      #expect(!dmesg.stdout.contains("oops"), "the faulting module never ran in lkmd")
    }
  }
}
