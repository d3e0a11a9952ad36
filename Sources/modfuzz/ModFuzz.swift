import ArgumentParser
import ELFObject
import Foundation
import LKMInterface
import LKMSandbox

/// modfuzz: mutates module objects and runs each in the sandbox, keeping one example of each
/// distinct finding.
@main
struct ModFuzz: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "modfuzz",
    abstract: "Fuzz the module loader with mutated objects, each run in the sandbox.",
    usage: """
      modfuzz [-j JOBS] [-n COUNT | -t SECONDS] [--seed N] [--link-only] [-o FINDINGS] [SEED...]
      modfuzz --run [--link-only] [--entry ENTRY] FILE...
      """,
    discussion: """
      Each input is a seed object (or archive) with one to four mutations: ELF-aware ones (ELF \
      header, section header, symbol and relocation fields, string tables, group sections, \
      archive member headers) and generic ones (bit and byte flips, truncation, extension, \
      splicing two seeds). Input N of a campaign depends only on --seed, N and the seeds, so a \
      campaign with -n is the same for any job count. Without SEED arguments the seeds are \
      Fixtures' kernel modules (Fixtures/sandbox, Fixtures/lkm) compiled with gcc, and, with \
      --link-only, Fixtures/c's programs too (then linked against the host C library); this \
      needs gcc and the package's Fixtures (found from the current directory or LKM_ROOT). \
      Exit status 1 if a loader crash, a loader timeout or running out of memory was found, \
      else 0.
      """)

  @Option(
    name: .customShort("j"),
    help: ArgumentHelp("Parallel sandboxes (default: the number of CPUs).", valueName: "jobs"))
  var jobs: Int?

  @Option(name: .customShort("n"), help: ArgumentHelp("Inputs to run in all.", valueName: "count"))
  var count: Int?

  @Option(
    name: .customShort("t"),
    help: ArgumentHelp("Seconds to run (default 60 unless -n is given).", valueName: "seconds"))
  var time: Double?

  @Option(help: ArgumentHelp("The campaign's seed.", valueName: "n"))
  var seed: UInt64 = 1

  @Flag(help: "Only link each input; run no module code.")
  var linkOnly = false

  @Flag(help: "Also resolve against the host C library (the default with --link-only and no SEED).")
  var hostSymbols = false

  @Option(name: .customShort("o"), help: ArgumentHelp("Where findings go.", valueName: "findings"))
  var output: String = "modfuzz-findings"

  @Option(help: ArgumentHelp("Seconds a sandboxed child may run.", valueName: "seconds"))
  var timeout: Double = 2

  @Option(help: ArgumentHelp("MiB of address space a sandboxed child may add.", valueName: "mib"))
  var memory: UInt64 = 1024

  @Flag(help: "A new process per input instead of the fork server (slower).")
  var noForkServer = false

  @Flag(
    name: .customLong("run"),
    help: "Run each FILE once in the sandbox and print its verdict (reproduces a finding).")
  var replayFiles = false

  @Option(
    help: ArgumentHelp(
      "With --run: the entry (default: xxxinit, BASENAME_lkmentry, main).", valueName: "entry"))
  var entry: String?

  @Option(
    name: .customLong("repeat"),
    help: ArgumentHelp(
      "With --run: run each FILE this many times and print the rate (benchmarks).",
      valueName: "count"))
  var repeatCount: Int = 1

  @Flag(help: "No status line, even on a terminal.")
  var quiet = false

  @Flag(
    help:
      "Also keep an example of each module fault (the modules' own faults, timeouts and memory), not only loader bugs."
  )
  var keepModuleFaults = false

  @Argument(
    help: ArgumentHelp(
      "Seed objects or archives (with --run: the files to run).", valueName: "file"))
  var files: [String] = []

  func configuration(hostSymbols: Bool) -> Sandbox.Configuration {
    var c = Sandbox.Configuration()
    c.timeout = timeout
    c.memory = memory << 20
    c.forkServer = !noForkServer
    c.hostSymbols = hostSymbols
    return c
  }

  mutating func run() throws {
    if replayFiles { return try replay() }
    var seeds: [Seed]
    var host = hostSymbols
    if files.isEmpty {
      seeds = try Seed.defaults(linkOnly: linkOnly)
      if linkOnly { host = true }
    } else {
      seeds = try files.map { try Seed(path: $0, entry: nil) }
    }
    guard !seeds.isEmpty else { throw ValidationError("no seeds") }
    let jobs = max(1, self.jobs ?? ProcessInfo.processInfo.activeProcessorCount)
    let limit: Campaign.Limit = count.map { .count($0) } ?? .seconds(time ?? 60)
    let campaign = Campaign(
      seeds: seeds, seed: seed, jobs: jobs, limit: limit, linkOnly: linkOnly,
      configuration: configuration(hostSymbols: host), findings: output,
      quiet: quiet || isatty(2) == 0,
      reproduceFlags: (linkOnly ? ["--link-only"] : []) + (host ? ["--host-symbols"] : [])
        + ["--timeout", "\(timeout)", "--memory", "\(memory)"], keepModuleFaults: keepModuleFaults)
    let found = try campaign.run()
    if found { throw ExitCode(1) }
  }

  /// --run: each file once, its verdict on stdout; exit 1 if any was a finding. With --repeat,
  /// the rate too: per wall-clock second and per CPU second (this process, the fork server
  /// and its children: the cost per input on one core, whatever else the machine runs).
  func replay() throws {
    guard !files.isEmpty else { throw ValidationError("--run needs files") }
    var found = false
    let start = Date()
    let cpuBefore = cpuSeconds()
    do {
      let sandbox = try Sandbox(configuration: configuration(hostSymbols: hostSymbols))
      for file in files {
        let seed = try Seed(path: file, entry: entry)
        let request = SandboxRequest(
          inputs: [seed.input], entry: seed.entry, mode: linkOnly ? .linkOnly : .lifecycle)
        var verdict = try sandbox.run(request)
        for _ in 1..<max(repeatCount, 1) { verdict = try sandbox.run(request) }
        print("\(file): \(verdict.description)")
        found = found || verdict.isFinding
      }
    }  // the sandbox ends here: its server is reaped, so its CPU time is counted
    if repeatCount > 1 {
      let elapsed = Date().timeIntervalSince(start)
      let cpu = cpuSeconds() - cpuBefore
      let n = files.count * repeatCount
      print(
        String(
          format:
            "modfuzz: %d sandboxed executions in %.2f s: %.0f per second; %.2f CPU seconds: %.0f per CPU second (%@)",
          n, elapsed, Double(n) / elapsed, cpu, Double(n) / cpu,
          noForkServer ? "a new process each" : "fork server"))
    }
    if found { throw ExitCode(1) }
  }
}

/// User and system time of this process and of its reaped children, in seconds.
func cpuSeconds() -> Double {
  var total = 0.0
  for who in [RUSAGE_SELF.rawValue, RUSAGE_CHILDREN.rawValue] {
    var usage = rusage()
    unsafe getrusage(who, &usage)
    total += Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    total += Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
  }
  return total
}

/// A seed: its bytes, its name and the entry modload would choose.
struct Seed: Sendable {
  var name: String
  var bytes: [UInt8]
  var entry: String

  var input: LoadRequest.Input { .init(name: name, bytes: bytes) }

  init(path: String, entry: String?) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ValidationError("\(path): cannot read")
    }
    bytes = Array(data)
    name = String(path.split(separator: "/").last ?? Substring(path))
    self.entry = entry ?? Seed.entry(for: bytes, name: name)
  }

  /// modload's rule: `xxxinit`, else `BASENAME_lkmentry`; then `main`; then the first global.
  static func entry(for bytes: [UInt8], name: String) -> String {
    let file = FileBytes(bytes, name: name)
    var defined: [String] = []
    if Archive.isArchive(file) {
      defined = (try? Archive(bytes: file))?.symbolIndex.keys.sorted() ?? []
    } else if let object = try? ObjectFile(bytes: file, offset: 0, count: file.count, name: name) {
      for i in object.symbols.indices where i != 0 && !object.symbols[i].isUndefined {
        let s = object.symbolName(i)
        if !s.isEmpty { defined.append(s) }
      }
    }
    let base = String(name.split(separator: ".").first ?? "")
    // OpenBSD's examples are loaded with -e NAME (newsyscall, miscmod): the file's base name.
    for candidate in ["xxxinit", base + "_lkmentry", base] where defined.contains(candidate) {
      return candidate
    }
    if let lkm = defined.first(where: { $0.hasSuffix("_lkmentry") }) { return lkm }
    if defined.contains("main") { return "main" }
    return defined.first ?? "main"
  }

  /// Fixtures' modules (and, for link-only campaigns, its C programs) compiled with gcc.
  static func defaults(linkOnly: Bool) throws -> [Seed] {
    let root =
      ProcessInfo.processInfo.environment["LKM_ROOT"] ?? FileManager.default.currentDirectoryPath
    let fixtures = root + "/Fixtures"
    guard FileManager.default.fileExists(atPath: fixtures + "/sandbox/good.c") else {
      throw ValidationError(
        "no SEED given and no Fixtures in \(root): give seeds, or run from the package (or set LKM_ROOT)"
      )
    }
    let work = NSTemporaryDirectory() + "modfuzz-seeds-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    var jobs: [(source: String, flags: String)] = []
    // Modules whose point is to loop, hog or break the filter would fill a campaign with
    // their own verdicts: the well-behaved and the faulting ones seed it.
    // (and slowcall sleeps, big is 256 KiB of nothing).
    let skip: Set<String> = [
      "spin.c", "hog.c", "execve.c", "socket.c", "openwrite.c", "slowcall.c", "big.c",
    ]
    for directory in ["sandbox", "lkm"] {
      let path = fixtures + "/" + directory
      let files = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
        .sorted()
      for file in files
      where file.hasSuffix(".c") && !skip.contains(String(file.split(separator: "/").last!)) {
        for opt in ["-O0", "-O2"] {
          jobs.append(
            ("\(path)/\(file)", "\(opt) -D_KERNEL -I '\(root)/Sources/CLKM/kernel/include'"))
        }
      }
    }
    if linkOnly {
      let path = fixtures + "/c"
      for file in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
      where file.hasSuffix(".c") {
        jobs.append(("\(path)/\(file)", "-O2 -ffunction-sections"))
      }
    }
    var seeds: [Seed] = []
    for (source, flags) in jobs {
      let base = String(source.split(separator: "/").last!.dropLast(2))
      let opt = flags.hasPrefix("-O0") ? "O0" : "O2"
      let object = "\(work)/\(base).o"
      let status = shell("gcc -c \(flags) '\(source)' -o '\(object)' 2>/dev/null")
      guard status == 0 else { continue }
      var seed = try Seed(path: object, entry: nil)
      seed.name = "\(base).o"
      _ = opt
      seeds.append(seed)
    }
    // One archive of the C programs (or modules), for the archive mutators.
    if let first = seeds.first {
      let archive = "\(work)/seeds.a"
      let objects = seeds.prefix(4).indices.map { "\(work)/seed\($0).o" }
      for (i, path) in objects.enumerated() {
        _ = FileManager.default.createFile(atPath: path, contents: Data(seeds[i].bytes))
      }
      if shell(
        "ar rcs '\(archive)' \(objects.map { "'\($0)'" }.joined(separator: " ")) 2>/dev/null") == 0
      {
        var seed = try Seed(path: archive, entry: first.entry)
        seed.entry = first.entry
        seeds.append(seed)
      }
    }
    return seeds
  }
}

@discardableResult
func shell(_ command: String) -> Int32 {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/sh")
  process.arguments = ["-c", command]
  do { try process.run() } catch { return 127 }
  process.waitUntilExit()
  return process.terminationStatus
}
