// lkmrun parses its command line by hand: swift-argument-parser imports FoundationEssentials,
// which would put Foundation in lkmrun's closure and stop it linking the Swift runtime
// statically (start-up is most of what lkmrun costs on a small module). Messages and exit codes
// follow ArgumentParser's ("Error: …", the usage, exit 64).
import CLkmrunHost
import Glibc
import ModuleLinker

@main
struct LkmRun {
  static let usage =
    "lkmrun [-nv] [-e ENTRY] [-l LIB]... [--cache DIR | --no-cache] OBJECT|ARCHIVE... [-- ARG...]"
  static let help = """
    OVERVIEW: Link relocatable objects into this process and run them.

    Links every object (and the archive members they need) into one module in this process, \
    resolving undefined symbols against the host C library and any library named with -l, then \
    calls int main(int argc, char **argv) (or ENTRY), runs the finalizers, flushes stdio and \
    exits with main's status. Arguments after -- are passed to main after argv[0].

    Linked images are cached (in $XDG_CACHE_HOME/lkm, else ~/.cache/lkm): a run whose inputs, \
    libraries and options are unchanged maps the cached image instead of linking. \
    LKM_NO_CACHE=1 or --no-cache turns the cache off.

    USAGE: \(usage)

    ARGUMENTS:
      <inputs>                Relocatable objects (.o) and ar archives (.a).

    OPTIONS:
      -n                      Link completely, then exit 0 without running anything.
      -v                      Print the layout, stubs, GOT, relocations and phase times on stderr.
      -e <entry>              The entry function (default: main).
      -l <library>            Also resolve against libLIB.so.
      --cache <dir>           Cache linked images in DIR.
      --no-cache              Link every time; use no cache.
      -h, --help              Show help information.

    """

  /// `-n`: link completely, then exit 0 without running anything.
  var linkOnly = false
  /// `-v`: print the layout, stubs, GOT, relocations and phase times on stderr.
  var verbose = false
  /// `-e ENTRY`: the entry function.
  var entry = "main"
  /// `-l LIB`: also resolve against libLIB.so.
  var library: [String] = []
  /// Relocatable objects (.o) and ar archives (.a).
  var inputs: [String] = []
  /// What follows `--`, passed to main after argv[0].
  var arguments: [String] = []
  /// `--cache DIR`: where linked images are cached.
  var cacheDirectory: String?
  /// `--no-cache`: link every time.
  var noCache = false

  /// ArgumentParser's usage error: the message, the usage, exit 64.
  static func usageError(_ message: String) -> Never {
    writeStandardError(
      "Error: \(message)\nUsage: \(usage)\n  See 'lkmrun --help' for more information.\n")
    exit(64)
  }

  /// Parses getopt-style: joined short flags (`-nv`), values joined or separate (`-emain`,
  /// `-e main`), options anywhere before `--`.
  static func parse(_ argv: [String]) -> LkmRun {
    var command = LkmRun()
    var i = 0
    func value(_ option: String, _ rest: Substring) -> String {
      if !rest.isEmpty { return String(rest) }
      i += 1
      guard i < argv.count else {
        let name = ["-e": "entry", "-l": "library", "--cache": "dir"][option] ?? "value"
        usageError("Missing value for '\(option) <\(name)>'")
      }
      return argv[i]
    }
    while i < argv.count {
      let word = argv[i]
      if word == "--" {
        command.arguments = Array(argv[(i + 1)...])
        break
      }
      if word == "-h" || word == "--help" {
        var text = help
        text.withUTF8 { buffer in _ = write(1, buffer.baseAddress, buffer.count) }
        exit(0)
      }
      if word == "--no-cache" {
        command.noCache = true
        i += 1
        continue
      }
      if word == "--cache" || word.hasPrefix("--cache=") {
        command.cacheDirectory = word == "--cache" ? value("--cache", "") : String(word.dropFirst(8))
        i += 1
        continue
      }
      if word.hasPrefix("--") { usageError("Unknown option '\(word)'") }
      if word.hasPrefix("-") && word.count > 1 {
        var rest = word.dropFirst()
        while let c = rest.first {
          rest = rest.dropFirst()
          switch c {
          case "n": command.linkOnly = true
          case "v": command.verbose = true
          case "e":
            command.entry = value("-e", rest)
            rest = ""
          case "l":
            command.library.append(value("-l", rest))
            rest = ""
          default: usageError("Unknown option '-\(c)'")
          }
        }
      } else {
        command.inputs.append(word)
      }
      i += 1
    }
    return command
  }

  static func main() {
    _ = lkmrun_host_data_count()
    let command = parse(Array(CommandLine.arguments.dropFirst()))
    if command.inputs.isEmpty { usageError("at least one object or archive is needed") }
    exit(command.execute())
  }

  func fail(_ error: LinkError) -> Int32 {
    for line in error.lines { writeStandardError("Error: \(line)\n") }
    return 1
  }

  func execute() -> Int32 {
    let start = monotonicNanoseconds()
    let module: LoadedModule
    do {
      let host = try HostSymbolProvider(libraries: library)
      var options = LinkOptions(providers: [host])
      options.moduleName = self.inputs[0]
      options.entry = entry
      if !noCache && !ImageCache.disabledByEnvironment {
        if let cacheDirectory {
          options.cache = try ImageCache(directory: cacheDirectory)
        } else {
          options.cache = ImageCache.standard()
        }
      }
      module = try ModuleLinker(options: options).link(contentsOf: self.inputs)
      if module.address(ofExport: entry) == nil {
        return fail(LinkError(.noEntryPoint, "\(self.inputs[0]): entry point '\(entry)' is not defined"))
      }
    } catch {
      return fail(error)
    }
    if verbose { report(module, total: monotonicNanoseconds() - start) }
    if linkOnly { return 0 }
    // The module's handlers and destructors run at exit, also when the module calls exit()
    // itself: registered before its constructors, they run after everything main registers.
    running = module
    atexit { running?.runFinalizers() }
    module.runInitializers()
    let status = module.callMain(entry, arguments: [self.inputs[0]] + arguments) ?? 1
    flushStandardStreams()
    return status
  }

  func report(_ module: LoadedModule, total: UInt64) {
    let s = module.statistics
    var out = "lkmrun: \(s.objectCount) objects linked at \(hex(module.baseAddress)), \(module.size) bytes\n"
    for segment in s.segments {
      out += "  \(segment.name.rightPadded(7)) \(hex(segment.address)) \(String(segment.size).leftPadded(9)) bytes \(segment.protection)\n"
    }
    out += "  stubs \(s.stubCount), GOT entries \(s.gotCount)\n"
    switch s.cache {
    case nil: out += "  cache off\n"
    case .hit: out += "  cache hit\n"
    case .stored(let missed): out += "  cache miss (\(missed)): stored\n"
    case .notStored(let missed, let reason): out += "  cache miss (\(missed)): not stored: \(reason)\n"
    }
    out += "  relocations \(s.relocationCount):"
    for (name, count) in s.relocationsByType.sorted(by: { $0.value > $1.value }) {
      out += " \(name.replacingOccurrences(of: "R_X86_64_", with: "")) \(count)"
    }
    out += "\n  time:"
    for phase in s.phases {
      out += " \(phase.name) \(milliseconds(Double(phase.nanoseconds) / 1e6)) ms"
    }
    let ms = Double(total) / 1e6
    out += "; total \(milliseconds(ms)) ms\n"
    writeStandardError(out)
  }
}

/// The module lkmrun runs, for the exit handler.
nonisolated(unsafe) var running: LoadedModule?

/// `ms` with three decimals.
func milliseconds(_ ms: Double) -> String {
  let thousandths = Int((ms * 1000).rounded())
  let fraction = String(thousandths % 1000)
  return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

func writeStandardError(_ text: String) {
  var text = text
  text.withUTF8 { buffer in
    var done = 0
    while done < buffer.count {
      let n = write(2, buffer.baseAddress! + done, buffer.count - done)
      if n <= 0 { break }
      done += n
    }
  }
}

extension String {
  func rightPadded(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
  func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}

func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }

func monotonicNanoseconds() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
