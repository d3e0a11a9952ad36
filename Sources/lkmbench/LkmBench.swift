// scripts/bench's in-process host for our linker: links the same inputs over and over (read
// the files, resolve, lay out, relocate, protect; nothing is run) and prints the timings as one
// JSON line. With --dlopen it times the ahead-of-time anchor instead, dlopen(RTLD_NOW) +
// dlclose of a shared library, in the same kind of process and with the same clock.
import ArgumentParser
import Glibc
import LKMBase
import ModuleLinker

@main
struct LkmBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lkmbench",
    abstract: "Time in-process links of relocatable objects (or dlopen of a shared library).",
    usage: """
      lkmbench [-n ITERATIONS] [-w WARMUP] [-l LIB]... [--cache DIR] OBJECT|ARCHIVE...
      lkmbench --dlopen LIBRARY [-n ITERATIONS] [-w WARMUP]
      """,
    discussion: """
      Each iteration reads every input, opens the host libraries, links one module and drops \
      it (unmapping it). The load time runs from before the first read to the protected module; \
      the unload time is the drop. Times come from clock_gettime(CLOCK_MONOTONIC); the load's \
      thread CPU time (CLOCK_THREAD_CPUTIME_ID) is reported too, as "cpu". Prints one JSON \
      object: median, minimum and 90th percentile (nearest rank) of each, in nanoseconds, \
      the median of each link phase, the relocation count of a link, and the resident set size \
      at the start and at its peak (getrusage ru_maxrss), in KiB; and of the process's first \
      link (cold), its time, CPU time, minor page faults (ru_minflt) and phases. With --cache, every \
      iteration links through a cache of linked images in DIR: the first (a warm-up) stores the \
      image, the timed ones load it ("cache_hits" counts them); inputs are mapped, not parsed, \
      by the link itself, so "read" is 0.
      """)

  @Option(name: .customShort("n"), help: "Timed iterations.")
  var iterations = 50

  @Option(name: .customShort("w"), help: "Untimed warm-up iterations first.")
  var warmup = 5

  @Option(name: .customShort("l", allowingJoined: true), help: "Also resolve against libLIB.so.")
  var library: [String] = []

  @Option(name: .customLong("dlopen"), help: "Time dlopen(LIBRARY, RTLD_NOW) + dlclose instead.")
  var dlopenLibrary: String?

  @Option(name: .customLong("cache"), help: "Link through a cache of linked images in DIR.")
  var cacheDirectory: String?

  @Flag(
    help:
      "Also report resident memory and mappings after the warm-up and at the end (a leak check).")
  var footprint = false

  @Argument(help: "Relocatable objects (.o) and ar archives (.a).")
  var inputs: [String] = []

  func validate() throws {
    if iterations < 1 { throw ValidationError("-n must be at least 1") }
    if warmup < 0 { throw ValidationError("-w must not be negative") }
    if dlopenLibrary == nil && inputs.isEmpty {
      throw ValidationError("at least one object or archive is needed")
    }
    if dlopenLibrary != nil && !inputs.isEmpty {
      throw ValidationError("--dlopen takes no objects")
    }
    if dlopenLibrary != nil && cacheDirectory != nil {
      throw ValidationError("--dlopen takes no cache")
    }
  }

  func run() throws {
    let rssStart = currentResidentKiB()
    var report: [(String, String)]
    if let name = dlopenLibrary {
      report = try timeDlopen(name)
    } else {
      report = try timeLinks()
    }
    report.append(("rss_start_kb", String(rssStart)))
    report.append(("max_rss_kb", String(peakResidentKiB())))
    print("{" + report.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
  }

  /// Links `inputs` warmup + iterations times.
  func timeLinks() throws -> [(String, String)] {
    var load: [UInt64] = []
    var unload: [UInt64] = []
    var cpu: [UInt64] = []
    var phases: [String: [UInt64]] = [:]
    var phaseOrder: [String] = []
    var reads: [UInt64] = []
    var hosts: [UInt64] = []
    var rests: [UInt64] = []
    var relocations = 0
    var objects = 0
    var footprintBefore: (Int, Int) = (0, 0)
    // The first link of the process (cold: nothing of it cached by the process yet).
    var first: (UInt64, UInt64) = (0, 0)
    var firstFaults = 0
    var firstPhases = ""
    var imageBytes = 0
    var hits = 0
    var bases: Set<UInt64> = []
    var cache: ImageCache?
    if let cacheDirectory {
      do { cache = try ImageCache(directory: cacheDirectory) } catch {
        writeStandardError("lkmbench: \(error)\n")
        throw ExitCode(1)
      }
    }
    for i in -warmup..<iterations {
      if i == 0 && footprint { footprintBefore = (currentResidentKiB(), mappingCount()) }
      let f0 = minorFaults()
      let c0 = threadCPUNanoseconds()
      let t0 = monotonicNanoseconds()
      var module: LoadedModule?
      var tRead: UInt64 = 0
      var tHost: UInt64 = 0
      do {
        if let cache {
          tRead = t0
          let host = try HostSymbolProvider(libraries: library)
          tHost = monotonicNanoseconds()
          var options = LinkOptions(providers: [host])
          options.cache = cache
          module = try ModuleLinker(options: options).link(contentsOf: inputs)
        } else {
          var linkInputs: [LinkInput] = []
          for path in inputs { linkInputs.append(try LinkInput.read(path)) }
          tRead = monotonicNanoseconds()
          let host = try HostSymbolProvider(libraries: library)
          tHost = monotonicNanoseconds()
          module = try ModuleLinker(options: LinkOptions(providers: [host])).link(linkInputs)
        }
      } catch {
        for line in error.lines { writeStandardError("lkmbench: \(line)\n") }
        throw ExitCode(1)
      }
      let t1 = monotonicNanoseconds()
      let c1 = threadCPUNanoseconds()
      let f1 = minorFaults()
      let statistics = module!.statistics
      imageBytes = module!.size
      let base = module!.baseAddress
      guard module!.address(ofExport: "main") != nil, statistics.relocationCount > 0 else {
        writeStandardError("lkmbench: the module defines no main or applied no relocations\n")
        throw ExitCode(1)
      }
      module = nil
      let t2 = monotonicNanoseconds()
      if i == -warmup {
        first = (t1 - t0, c1 - c0)
        firstFaults = f1 - f0
        firstPhases =
          "\"read\":\(tRead - t0),\"host\":\(tHost - tRead),"
          + statistics.phases.map { "\"\($0.name)\":\($0.nanoseconds)," }.joined()
        firstPhases.removeLast()
      }
      guard i >= 0 else { continue }
      if statistics.cache == .hit { hits += 1 }
      bases.insert(base)
      load.append(t1 - t0)
      unload.append(t2 - t1)
      cpu.append(c1 - c0)
      reads.append(tRead - t0)
      hosts.append(tHost - tRead)
      let phased = statistics.phases.reduce(0) { $0 + $1.nanoseconds }
      rests.append(t1 - tHost > phased ? t1 - tHost - phased : 0)
      relocations = statistics.relocationCount
      objects = statistics.objectCount
      for phase in statistics.phases {
        if phases[phase.name] == nil { phaseOrder.append(phase.name) }
        phases[phase.name, default: []].append(phase.nanoseconds)
      }
    }
    // Reading the inputs and opening the host libraries, the link's own phases, and the rest of
    // the link outside them ("other": building the LoadedModule after "protect").
    var phaseJSON = "\"read\":\(median(reads)),\"host\":\(median(hosts)),"
    phaseJSON += phaseOrder.map { "\"\($0)\":\(median(phases[$0]!))," }.joined()
    phaseJSON += "\"other\":\(median(rests))"
    var extra: [(String, String)] = []
    if footprint {
      extra = [
        ("rss_before_kb", String(footprintBefore.0)), ("maps_before", String(footprintBefore.1)),
        ("rss_after_kb", String(currentResidentKiB())), ("maps_after", String(mappingCount())),
      ]
    }
    return extra + [
      ("host", "\"lkm\""), ("iterations", String(iterations)), ("warmup", String(warmup)),
      ("objects", String(objects)), ("relocations", String(relocations)),
      ("image_bytes", String(imageBytes)), ("first_load_ns", String(first.0)),
      ("first_cpu_ns", String(first.1)), ("first_minor_faults", String(firstFaults)),
      ("first_phase_ns", "{\(firstPhases)}"),
      ("cache_hits", cache == nil ? "null" : String(hits)), ("addresses", String(bases.count)),
    ] + summary("load", load) + summary("unload", unload) + summary("cpu", cpu)
      + [("phase_median_ns", "{\(phaseJSON)}")]
  }

  /// Opens and closes `name` warmup + iterations times, checking that every close unloads it.
  func timeDlopen(_ name: String) throws -> [(String, String)] {
    var load: [UInt64] = []
    var unload: [UInt64] = []
    var cpu: [UInt64] = []
    if unsafe dlopen(name, RTLD_NOW | RTLD_NOLOAD) != nil {
      writeStandardError("lkmbench: \(name) is already loaded, so dlopen would not load it\n")
      throw ExitCode(1)
    }
    var footprintBefore: (Int, Int) = (0, 0)
    for i in -warmup..<iterations {
      if i == 0 && footprint { footprintBefore = (currentResidentKiB(), mappingCount()) }
      let c0 = threadCPUNanoseconds()
      let t0 = monotonicNanoseconds()
      guard let handle = unsafe dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
        writeStandardError(unsafe "lkmbench: \(String(cString: dlerror()))\n")
        throw ExitCode(1)
      }
      let t1 = monotonicNanoseconds()
      let c1 = threadCPUNanoseconds()
      unsafe dlclose(handle)
      let t2 = monotonicNanoseconds()
      if let again = unsafe dlopen(name, RTLD_NOW | RTLD_NOLOAD) {
        unsafe dlclose(again)
        writeStandardError("lkmbench: \(name) is still loaded after dlclose\n")
        throw ExitCode(1)
      }
      guard i >= 0 else { continue }
      load.append(t1 - t0)
      unload.append(t2 - t1)
      cpu.append(c1 - c0)
    }
    return [("host", "\"dlopen\""), ("iterations", String(iterations)), ("warmup", String(warmup))]
      + summary("load", load) + summary("unload", unload) + summary("cpu", cpu)
  }
}

/// The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID): less disturbed than the wall clock
/// by other processes competing for the CPUs.
func threadCPUNanoseconds() -> UInt64 {
  var ts = timespec()
  unsafe clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The median (the mean of the middle two for an even count).
func median(_ values: [UInt64]) -> UInt64 {
  let v = values.sorted()
  return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
}

/// Median, minimum and nearest-rank 90th percentile, as JSON members `KEY_median_ns` and so on.
func summary(_ key: String, _ values: [UInt64]) -> [(String, String)] {
  let v = values.sorted()
  let rank = max(0, (9 * v.count + 9) / 10 - 1)
  return [
    ("\(key)_median_ns", String(median(v))), ("\(key)_min_ns", String(v[0])),
    ("\(key)_p90_ns", String(v[rank])),
  ]
}

/// Minor page faults of the process so far (`ru_minflt`).
func minorFaults() -> Int {
  var usage = rusage()
  unsafe getrusage(RUSAGE_SELF.rawValue, &usage)
  return Int(usage.ru_minflt)
}

/// Peak resident set size in KiB (`ru_maxrss`).
func peakResidentKiB() -> Int {
  var usage = rusage()
  unsafe getrusage(RUSAGE_SELF.rawValue, &usage)
  return Int(usage.ru_maxrss)
}

/// Current resident set size in KiB, from /proc/self/statm.
func currentResidentKiB() -> Int {
  guard let file = unsafe fopen("/proc/self/statm", "r") else { return 0 }
  defer { unsafe fclose(file) }
  var buffer = [UInt8](repeating: 0, count: 128)
  let count = unsafe fread(&buffer, 1, buffer.count - 1, file)
  let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
  guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
  return pages * sysconf(Int32(_SC_PAGESIZE)) / 1024
}

/// The number of mappings in /proc/self/maps.
func mappingCount() -> Int {
  let fd = unsafe open("/proc/self/maps", O_RDONLY)
  guard fd >= 0 else { return -1 }
  defer { close(fd) }
  var lines = 0
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = unsafe buffer.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
    if n <= 0 { break }
    for i in 0..<n where buffer[i] == 10 { lines += 1 }
  }
  return lines
}
