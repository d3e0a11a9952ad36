import Foundation
import LKMInterface
import LKMSandbox

/// A fuzzing campaign: jobs, each with its own sandbox, share the inputs by index; counts,
/// findings and the status line are shared under a lock.
final class Campaign: @unchecked Sendable {
  enum Limit {
    case count(Int)
    case seconds(Double)
  }

  let seeds: [Seed]
  let seed: UInt64
  let jobs: Int
  let limit: Limit
  let linkOnly: Bool
  let configuration: Sandbox.Configuration
  let findingsDirectory: String
  let quiet: Bool
  let reproduceFlags: [String]
  /// Whether an example of each expected module fault (the modules' own faults, timeouts and
  /// memory) is written too; otherwise they are counted, and only loader bugs are kept.
  let keepModuleFaults: Bool

  private let lock = NSLock()
  private var counts: [SandboxVerdict.Kind: Int] = [:]
  private var executions = 0
  /// Findings by key: the lowest input index that produced it, and what it was.
  private var findings: [String: Finding] = [:]
  private var moduleFaultSites = 0
  /// The distinct module faults seen (counted, kept only with --keep-module-faults).
  private var moduleFaultKeys: Set<String> = []
  private var errors: [String] = []
  private let start = Date()
  private var done = false

  struct Finding {
    var index: UInt64
    var verdict: SandboxVerdict
    var seed: String
    var mutations: [String]
    var bytes: [UInt8]
    var entry: String
  }

  init(
    seeds: [Seed], seed: UInt64, jobs: Int, limit: Limit, linkOnly: Bool,
    configuration: Sandbox.Configuration, findings: String, quiet: Bool, reproduceFlags: [String],
    keepModuleFaults: Bool = false
  ) {
    self.keepModuleFaults = keepModuleFaults
    self.seeds = seeds
    self.seed = seed
    self.jobs = jobs
    self.limit = limit
    self.linkOnly = linkOnly
    self.configuration = configuration
    self.findingsDirectory = findings
    self.quiet = quiet
    self.reproduceFlags = reproduceFlags
  }

  /// Input `index`: a seed and one to four mutations.
  func input(_ index: UInt64) -> (seed: Seed, bytes: [UInt8], mutations: [String]) {
    var rng = SplitMix64(campaign: seed, index: index)
    let chosen = seeds[rng.below(seeds.count)]
    var mutator = Mutator(rng: rng, seeds: seeds.map(\.bytes))
    var bytes = chosen.bytes
    var names: [String] = []
    let rounds = [1, 1, 1, 2, 2, 3, 4][mutator.rng.below(7)]
    for _ in 0..<rounds { names.append(mutator.mutate(&bytes)) }
    return (chosen, bytes, names)
  }

  /// Runs the campaign; true if a finding (loader crash, loader timeout, out of memory) was made.
  func run() throws -> Bool {
    try FileManager.default.createDirectory(
      atPath: findingsDirectory, withIntermediateDirectories: true)
    var status: Thread?
    if !quiet {
      let thread = Thread { [self] in
        while !isDone {
          printStatus(final: false)
          Thread.sleep(forTimeInterval: 0.25)
        }
      }
      thread.start()
      status = thread
    }
    _ = status
    DispatchQueue.concurrentPerform(iterations: jobs) { job in
      runJob(job)
    }
    lock.lock()
    done = true
    lock.unlock()
    if !quiet { printStatus(final: true) }
    printSummary()
    lock.lock()
    defer { lock.unlock() }
    return findings.values.contains { $0.verdict.isFinding }
  }

  var isDone: Bool {
    lock.lock()
    defer { lock.unlock() }
    return done
  }

  func runJob(_ job: Int) {
    let sandbox: Sandbox
    do { sandbox = try Sandbox(configuration: configuration) } catch {
      record(error: "job \(job): \(error)")
      return
    }
    let deadline: Date? =
      if case .seconds(let s) = limit { start.addingTimeInterval(s) } else { nil }
    var index = UInt64(job)
    while true {
      if case .count(let n) = limit, index >= UInt64(n) { break }
      if let deadline, Date() >= deadline { break }
      let (chosen, bytes, mutations) = input(index)
      let request = SandboxRequest(
        inputs: [.init(name: chosen.name, bytes: bytes)], entry: chosen.entry,
        mode: linkOnly ? .linkOnly : .lifecycle)
      do {
        let verdict = try sandbox.run(request)
        record(verdict, index: index, seed: chosen, bytes: bytes, mutations: mutations)
      } catch {
        record(error: "input \(index): \(error)")
      }
      index += UInt64(jobs)
    }
  }

  /// The key of a finding: one example is kept per key.
  static func key(_ verdict: SandboxVerdict) -> String? {
    switch verdict {
    case .rejected, .loaded: return nil
    case .moduleFault(let site): return "module-fault " + site.key
    case .loaderCrash(let signal, let after, let detail):
      // Addresses move between runs: keep the words.
      let words = detail.split(separator: " ").map { $0.hasPrefix("0x") ? "X" : String($0) }.joined(
        separator: " ")
      return "loader-crash \(Signals.name(signal))\(after ? " after-module" : "") \(words)"
    case .timeout(_, let inModule): return inModule ? "timeout module-code" : "timeout loader"
    case .outOfMemory(_, let byModule):
      return byModule ? "out-of-memory module" : "out-of-memory loader"
    }
  }

  func record(
    _ verdict: SandboxVerdict, index: UInt64, seed: Seed, bytes: [UInt8], mutations: [String]
  ) {
    lock.lock()
    defer { lock.unlock() }
    executions += 1
    counts[verdict.kind, default: 0] += 1
    guard let key = Campaign.key(verdict) else { return }
    if !verdict.isFinding {
      moduleFaultKeys.insert(key)
      guard keepModuleFaults else { return }
    }
    if let old = findings[key], old.index <= index { return }
    if case .moduleFault = verdict, findings[key] == nil {
      // Module faults are the modules' doing: keep at most 1,000 sites.
      guard moduleFaultSites < 1000 else { return }
      moduleFaultSites += 1
    }
    let finding = Finding(
      index: index, verdict: verdict, seed: seed.name, mutations: mutations, bytes: bytes,
      entry: seed.entry)
    findings[key] = finding
    write(finding, key: key)
  }

  func record(error: String) {
    lock.lock()
    errors.append(error)
    lock.unlock()
  }

  /// FINDINGS/KIND-HASH.o (the input), KIND-HASH.txt (verdict, origin, the command).
  func write(_ finding: Finding, key: String) {
    let kind = finding.verdict.kind.rawValue.replacingOccurrences(of: " ", with: "-")
    let stem = "\(findingsDirectory)/\(kind)-\(String(format: "%08x", fnv1a(key)))"
    let isArchive = finding.bytes.starts(with: Array("!<arch>\n".utf8))
    let file = stem + (isArchive ? ".a" : ".o")
    _ = FileManager.default.createFile(atPath: file, contents: Data(finding.bytes))
    let command = (["modfuzz", "--run"] + reproduceFlags + ["--entry", finding.entry, file]).joined(
      separator: " ")
    let text = """
      verdict: \(finding.verdict.description)
      input: \(finding.index) of campaign --seed \(seed) (seed object \(finding.seed); mutations: \(finding.mutations.joined(separator: ", ")))
      reproduce: \(command)

      """
    _ = FileManager.default.createFile(atPath: stem + ".txt", contents: Data(text.utf8))
  }

  func printStatus(final: Bool) {
    lock.lock()
    let n = executions
    let c = counts
    let bugs = findings.values.filter { $0.verdict.isFinding }.count
    let faults = moduleFaultKeys.count
    lock.unlock()
    let elapsed = Date().timeIntervalSince(start)
    let line = Campaign.statusLine(
      executions: n, seconds: elapsed, counts: c, bugs: bugs, moduleFaults: faults,
      width: Campaign.terminalWidth())
    FileHandle.standardError.write(Data(("\r\u{1b}[K" + line + (final ? "\n" : "")).utf8))
  }

  /// The status line, at most `width - 1` columns: inputs and rate, the verdicts seen, loader
  /// bugs found and distinct module faults, elapsed time; what does not fit is left out from
  /// the end of the verdicts.
  static func statusLine(
    executions n: Int, seconds: Double, counts: [SandboxVerdict.Kind: Int], bugs: Int,
    moduleFaults: Int, width: Int
  ) -> String {
    let rate = seconds > 0 ? Double(n) / seconds : 0
    let head = "\(n) inputs \(String(format: "%.0f", rate))/s"
    let tail =
      "\(bugs) bug\(bugs == 1 ? "" : "s"), \(moduleFaults) module fault\(moduleFaults == 1 ? "" : "s") | \(String(format: "%.0f", seconds))s"
    var verdicts: [String] = []
    for kind in SandboxVerdict.Kind.allCases where counts[kind, default: 0] > 0 {
      verdicts.append("\(kind.rawValue) \(counts[kind]!)")
    }
    let room = max(width - 1, 20)
    var line = "\(head) | \(verdicts.joined(separator: ", ")) | \(tail)"
    while line.count > room && !verdicts.isEmpty {
      verdicts.removeLast()
      line =
        "\(head) | \(verdicts.joined(separator: ", "))\(verdicts.isEmpty ? "" : ", ")… | \(tail)"
    }
    if line.count > room { line = "\(head) | \(tail)" }
    if line.count > room { line = String(line.prefix(room)) }
    return line
  }

  /// The terminal's width (stderr's, else $COLUMNS, else 80).
  static func terminalWidth() -> Int {
    var size = winsize()
    if unsafe ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
    if let text = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(text), n > 0 {
      return n
    }
    return 80
  }

  func printSummary() {
    lock.lock()
    defer { lock.unlock() }
    let elapsed = Date().timeIntervalSince(start)
    var out = "modfuzz: \(executions) inputs in \(String(format: "%.1f", elapsed)) s "
    out +=
      "(\(String(format: "%.0f", Double(executions) / max(elapsed, 0.001))) per second, \(jobs) job\(jobs == 1 ? "" : "s"), "
    out += "seed \(seed), \(seeds.count) seed files\(linkOnly ? ", link only" : ""))\n\n"
    out += "| Verdict | Inputs | Share |\n|---|---:|---:|\n"
    for kind in SandboxVerdict.Kind.allCases {
      let n = counts[kind, default: 0]
      out +=
        "| \(kind.rawValue) | \(n) | \(String(format: "%.2f", executions > 0 ? 100 * Double(n) / Double(executions) : 0))% |\n"
    }
    let sorted = findings.sorted { $0.key < $1.key }
    let bugs = sorted.filter { $0.value.verdict.isFinding }
    out += "\nLoader bugs (a loader crash, loader timeout or out of memory): \(bugs.count)"
    out += bugs.isEmpty ? "\n" : ", kept in \(findingsDirectory)\n"
    for (key, finding) in bugs {
      out += "  \(key): input \(finding.index): \(finding.verdict.description)\n"
    }
    out +=
      "Module faults (the modules' own faults, timeouts and memory, expected of mutated modules): "
    out += "\(moduleFaultKeys.count) distinct"
    out +=
      keepModuleFaults
      ? ", examples kept in \(findingsDirectory)\n"
      : " (counted; --keep-module-faults keeps an example of each)\n"
    for error in errors.prefix(10) { out += "error: \(error)\n" }
    print(out, terminator: "")
  }
}
