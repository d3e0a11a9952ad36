import Foundation
import LKMInterface
import TestSupport
import Testing

@testable import LKMSandbox

/// The sandbox fixtures, compiled once: name → object bytes.
let modules: [String: [UInt8]] = {
  let directory = try! TestSupport.temporaryDirectory("sandbox-fixtures")
  var result: [String: [UInt8]] = [:]
  for name in ["good", "nullderef", "spin", "hog", "execve", "socket", "openwrite", "iouring"] {
    let object = "\(directory)/\(name).o"
    try! KernelFixtures.compile(TestSupport.fixture("sandbox/\(name).c"), to: object)
    result[name] = Array(FileManager.default.contents(atPath: object)!)
  }
  return result
}()

func request(_ name: String, mode: SandboxRequest.Mode = .lifecycle) -> SandboxRequest {
  SandboxRequest(
    inputs: [.init(name: "\(name).o", bytes: modules[name]!)], entry: "\(name)_lkmentry", mode: mode
  )
}

/// otherpid.c built to make attack `attack` on process `target`.
func otherPidRequest(target: Int32, attack: Int) throws -> SandboxRequest {
  let directory = try TestSupport.temporaryDirectory("sandbox-otherpid")
  let object = "\(directory)/otherpid-\(attack)-\(target).o"
  try KernelFixtures.compile(
    TestSupport.fixture("sandbox/otherpid.c"), to: object,
    flags: ["-DTARGET=\(target)", "-DATTACK=\(attack)"])
  let bytes = Array(FileManager.default.contents(atPath: object)!)
  return SandboxRequest(
    inputs: [.init(name: "otherpid.o", bytes: bytes)], entry: "otherpid_lkmentry", mode: .lifecycle)
}

/// How a sandbox runs its children, for the pid tests.
enum Isolation: String, CaseIterable, Sendable {
  case namespace, forkServerFilter, oneShot
}

func isolatedSandbox(_ isolation: Isolation) throws -> Sandbox {
  try sandbox(forkServer: isolation != .oneShot, namespace: isolation == .namespace)
}

func sandbox(
  timeout: Double = 10, memory: UInt64 = 1 << 30, forkServer: Bool = true, namespace: Bool = true
) throws -> Sandbox {
  var configuration = Sandbox.Configuration()
  configuration.usesPIDNamespace = namespace
  configuration.timeout = timeout
  configuration.memory = memory
  configuration.forkServer = forkServer
  configuration.helperPath = TestSupport.product("lkm-sandbox-child")
  return try Sandbox(configuration: configuration)
}

@Suite("Sandbox verdicts", .serialized)
struct SandboxVerdictTests {
  @Test(
    "a well-behaved module is loaded, with every command returning 0", arguments: [true, false])
  func loaded(forkServer: Bool) throws {
    let verdict = try sandbox(forkServer: forkServer).run(request("good"))
    #expect(verdict == .loaded(load: 0, stat: 0, unload: 0))
    #expect(verdict.allowsLoad)
    #expect(verdict.description == "loaded: LKM_E_LOAD 0, LKM_E_STAT 0, LKM_E_UNLOAD 0")
  }

  @Test("link only links and runs nothing")
  func linkOnly() throws {
    let verdict = try sandbox().run(request("nullderef", mode: .linkOnly))
    #expect(verdict == .loaded(load: 0, stat: nil, unload: nil))
  }

  @Test("a NULL dereference is a module fault at the module's function and offset")
  func nullDereference() throws {
    let verdict = try sandbox().run(request("nullderef"))
    guard case .moduleFault(let site) = verdict else {
      Issue.record("expected a module fault, got \(verdict.description)")
      return
    }
    #expect(site.signal == "SIGSEGV")
    #expect(site.during == "LKM_E_LOAD")
    #expect(site.place?.hasPrefix("nullderef_") == true)
    #expect(site.address == 0)
    #expect(!verdict.isFinding && !verdict.allowsLoad)
  }

  @Test("a module that loops is killed at the timeout")
  func loop() throws {
    let start = Date()
    let verdict = try sandbox(timeout: 1).run(request("spin"))
    #expect(verdict == .timeout(seconds: 1, inModuleCode: true))
    #expect(!verdict.isFinding)
    #expect(Date().timeIntervalSince(start) < 5)
  }

  @Test("a module that allocates without end runs out of memory")
  func hog() throws {
    let verdict = try sandbox(memory: 256 << 20).run(request("hog"))
    #expect(verdict.kind == .outOfMemory, "\(verdict.description)")
    #expect(!verdict.isFinding)
  }

  @Test(
    "a forbidden system call from module code is killed by the filter",
    arguments: ["execve", "socket", "openwrite", "iouring"])
  func filtered(_ name: String) throws {
    let verdict = try sandbox().run(request(name))
    #expect(
      verdict
        == .moduleFault(
          ModuleFaultSite(
            signal: "SIGSYS", place: nil, during: "module code",
            detail: "killed by the sandbox filter")),
      "\(verdict.description)")
    #expect(!FileManager.default.fileExists(atPath: "/tmp/lkm-sandbox-openwrite"))
  }

  @Test(
    "a module reaches no other process by pid: kill, prlimit64 and pidfd_open find nothing or are killed by the filter, kill(-1) and the server are killed",
    arguments: [1, 2, 3, 4, 6], Isolation.allCases)
  func otherProcess(attack: Int, isolation: Isolation) throws {
    let target = Process()
    target.executableURL = URL(fileURLWithPath: "/bin/sleep")
    target.arguments = ["60"]
    try target.run()
    defer { target.terminate() }
    let pid = target.processIdentifier
    let limitsBefore = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
    let box = try isolatedSandbox(isolation)
    let verdict = try box.run(otherPidRequest(target: pid, attack: attack))
    let filtered = SandboxVerdict.moduleFault(
      ModuleFaultSite(
        signal: "SIGSYS", place: nil, during: "module code", detail: "killed by the sandbox filter")
    )
    if isolation == .namespace && [1, 2, 4].contains(attack) {
      // In the server's namespace the target is not there (ESRCH), unless none could be made.
      #expect(
        verdict == .loaded(load: 3, stat: nil, unload: nil) || verdict == filtered,
        "\(verdict.description)")
    } else {
      #expect(verdict == filtered, "\(verdict.description)")
    }
    #expect(target.isRunning)
    #expect(try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8) == limitsBefore)
    // The server (attack 6) is alive and serves.
    #expect(try box.run(request("good")) == .loaded(load: 0, stat: 0, unload: 0))
    #expect(box.serversStarted <= 1)
  }

  @Test(
    "a module never runs as root, even in a sandbox root started", arguments: Isolation.allCases)
  func notRoot(isolation: Isolation) throws {
    let verdict = try isolatedSandbox(isolation).run(otherPidRequest(target: 1, attack: 7))
    #expect(verdict == .loaded(load: 0, stat: 0, unload: 0), "\(verdict.description)")
  }

  @Test("a module opens no file, not even to read (Landlock)", arguments: Isolation.allCases)
  func noFiles(isolation: Isolation) throws {
    let verdict = try isolatedSandbox(isolation).run(otherPidRequest(target: 1, attack: 8))
    #expect(verdict == .loaded(load: 13, stat: nil, unload: nil), "\(verdict.description)")
  }

  @Test("a module may still signal itself", arguments: Isolation.allCases)
  func signalsItself(isolation: Isolation) throws {
    let verdict = try isolatedSandbox(isolation).run(otherPidRequest(target: 1, attack: 5))
    #expect(verdict == .loaded(load: 0, stat: 0, unload: 0), "\(verdict.description)")
  }

  @Test("as root, the fork server is the init of a pid namespace of its own")
  func serverInNamespace() throws {
    guard getuid() == 0 else { return }  // unprivileged: it depends on user namespaces
    let box = try isolatedSandbox(.namespace)
    #expect(try box.run(request("good")) == .loaded(load: 0, stat: 0, unload: 0))
    let outer = box.serverProcessID!
    let children = try String(
      contentsOfFile: "/proc/\(outer)/task/\(outer)/children", encoding: .utf8)
    let server = try #require(children.split(separator: " ").first.flatMap { Int32($0) })
    let status = try String(contentsOfFile: "/proc/\(server)/status", encoding: .utf8)
    let nspid = status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }
    #expect(nspid?.split(separator: "\t").last == "1", "\(nspid ?? "")")
  }

  @Test("a malformed object is rejected with the reader's code and message")
  func rejected() throws {
    var truncated = request("good")
    truncated.inputs[0].bytes = Array(truncated.inputs[0].bytes.prefix(40))
    let verdict = try sandbox().run(truncated)
    guard case .rejected(let code, let message) = verdict else {
      Issue.record("expected a rejection, got \(verdict.description)")
      return
    }
    #expect(code == "malformedInput")
    #expect(message.hasPrefix("good.o: "))
  }

  @Test("an undefined entry is rejected as noEntryPoint")
  func noEntry() throws {
    var wrong = request("good")
    wrong.entry = "missing_lkmentry"
    let verdict = try sandbox().run(wrong)
    // modload's message without a.out's underscore, and what to do (issue 12).
    #expect(
      verdict
        == .rejected(
          code: "noEntryPoint",
          message:
            "entry point missing_lkmentry not found in good.o; tried missing_lkmentry; good.o defines good_lkmentry: use -e good_lkmentry"
        ))
  }

  @Test(
    "each fork server is bound to one CPU; without the binding it may run where its parent may")
  func serversBoundToCPUs() throws {
    func allowed(_ pid: Int32) throws -> String {
      let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
      let line = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
      return String(line?.split(separator: "\t").last ?? "")
    }
    let mine = try allowed(getpid())
    let first = try sandbox()
    let second = try sandbox()
    #expect(try first.run(request("good")) == .loaded(load: 0, stat: 0, unload: 0))
    #expect(try second.run(request("good")) == .loaded(load: 0, stat: 0, unload: 0))
    let cpus = try [first, second].map { try allowed($0.serverProcessID!) }
    // One CPU each, one the test process may run on. (Which one depends on how many servers
    // this process started before: other suites run sandboxes too.)
    var mayRun: Set<Int> = []
    for part in mine.split(separator: ",") {
      let ends = part.split(separator: "-").compactMap { Int($0) }
      if let low = ends.first, let high = ends.last, low <= high { mayRun.formUnion(low...high) }
    }
    for cpu in cpus {
      #expect(Int(cpu).map { mayRun.contains($0) } == true, "bound to one CPU of \(mine): \(cpu)")
    }
    var configuration = Sandbox.Configuration()
    configuration.bindsServerToCPU = false
    configuration.helperPath = TestSupport.product("lkm-sandbox-child")
    let unbound = try Sandbox(configuration: configuration)
    #expect(try unbound.run(request("good")) == .loaded(load: 0, stat: 0, unload: 0))
    #expect(try allowed(unbound.serverProcessID!) == mine)
  }

  @Test("the fork server survives its children's crashes and timeouts")
  func forkServerSurvives() throws {
    let box = try sandbox(timeout: 1)
    #expect(try box.run(request("execve")).kind == .moduleFault)
    #expect(try box.run(request("good")) == .loaded(load: 0, stat: 0, unload: 0))
    #expect(try box.run(request("nullderef")).kind == .moduleFault)
    #expect(try box.run(request("spin")).kind == .timeout)
    #expect(try box.run(request("good")) == .loaded(load: 0, stat: 0, unload: 0))
    #expect(box.serversStarted == 1)
    #expect(box.executions == 5)
  }
}

@Suite("Sandbox classification")
struct ClassificationTests {
  @Test("a signal while the loader runs is a loader crash; after module code it says so")
  func loaderCrash() {
    let crash = Sandbox.classify(
      report: nil, phase: 1, allocationFailed: false, termination: .signaled(11), timedOut: false,
      stderr:
        "lkmd: panic: kernel fault: Segmentation fault at pc 0x1234, address 0x0, outside module code\n",
      timeout: 1)
    #expect(
      crash
        == .loaderCrash(
          signal: 11, afterModuleCode: false,
          detail:
            "lkmd: panic: kernel fault: Segmentation fault at pc 0x1234, address 0x0, outside module code"
        ))
    #expect(crash.isFinding)
    let after = Sandbox.classify(
      report: nil, phase: 3, allocationFailed: false, termination: .signaled(4), timedOut: false,
      stderr: "",
      timeout: 1)
    #expect(after.description == "loader crash: SIGILL after module code ran")
  }

  @Test("a failed allocation, then a trap, is out of memory")
  func allocation() {
    let verdict = Sandbox.classify(
      report: nil, phase: 1, allocationFailed: true, termination: .signaled(4), timedOut: false,
      stderr: "",
      timeout: 1)
    #expect(verdict.kind == .outOfMemory)
    #expect(verdict.isFinding)
  }
}

/// One line of Fixtures/sandbox/findings/expected.tsv.
struct FindingCase: Sendable, CustomTestStringConvertible {
  var file: String
  var mode: SandboxRequest.Mode
  var entry: String
  var hostSymbols: Bool
  var testDescription: String { file }

  static let all: [FindingCase] = {
    let table = FixtureTable("sandbox/findings/expected.tsv", columns: 5)
    return table.rows.map { f in
      FindingCase(
        file: f[0], mode: f[1] == "link" ? .linkOnly : .lifecycle, entry: f[2],
        hostSymbols: f[3] == "yes")
    }
      + table.unparsable.map {
        // Replayed as a file that does not exist: the test fails, naming the line.
        FindingCase(file: "unparsable line: \($0)", mode: .lifecycle, entry: "", hostSymbols: false)
      }
  }()
}

@Suite("modfuzz findings replayed", .serialized)
struct FindingReplayTests {
  @Test(
    "a fixed finding is no longer a loader crash, timeout or out of memory",
    arguments: FindingCase.all)
  func replay(_ finding: FindingCase) throws {
    var configuration = Sandbox.Configuration()
    configuration.timeout = 5
    configuration.hostSymbols = finding.hostSymbols
    configuration.helperPath = TestSupport.product("lkm-sandbox-child")
    let bytes = try #require(
      FileManager.default.contents(atPath: TestSupport.fixture("sandbox/findings/\(finding.file)")))
    let verdict = try Sandbox(configuration: configuration).run(
      SandboxRequest(
        inputs: [.init(name: finding.file, bytes: Array(bytes))], entry: finding.entry,
        mode: finding.mode))
    #expect(!verdict.isFinding, "\(verdict.description)")
  }
}
