// lkmrun parses its command line by hand: swift-argument-parser imports FoundationEssentials,
// which would put Foundation in lkmrun's closure and stop it linking the Swift runtime
// statically (start-up is most of what lkmrun costs on a small module). Errors are prefixed with
// the tool's name; a usage error exits 64, as ArgumentParser's do.
import CLkmrunHost
import ELFObject
import Glibc
import LKMBase
import ModuleLinker

/// lkmrun: the command line, the link and the run, for both of its executables.
public struct LkmRun {
  /// Which of lkmrun's executables this is: `lkmrun`, with libstdc++ linked in for its own
  /// runtime and none for modules, or `lkmrun-cxx`, with libstdc++.so.6 and copies of its data
  /// objects for modules to reach (hostdata_cxx.c).
  public enum Executable: Sendable {
    case lkmrun
    case lkmrunCxx
  }

  static let usage =
    "lkmrun [-nv] [--perf-map] [-e entry] [-l library]... [--cache dir | --no-cache] object|archive... [--] [argument ...]"
  static let help = """
    OVERVIEW: Link relocatable objects into this process and run them.

    Links every object (and the archive members they need) into one module in this process, \
    resolving undefined symbols against the host C library and any library named with -l, then \
    calls int main(int argc, char **argv) (or entry), runs the finalizers, flushes stdio and \
    exits with main's status. The program's arguments follow the objects: the first word that \
    does not name a .o or .a file begins them (everything after -- does). A program killed by \
    a signal is reported as a shell reports it, with the function it was in, and lkmrun exits \
    with 128 + the signal's number. See lkmrun(1).

    Linked images are cached (in $XDG_CACHE_HOME/lkm, else ~/.cache/lkm): a run whose inputs, \
    libraries and options are unchanged maps the cached image instead of linking. \
    LKM_NO_CACHE=1 or --no-cache turns the cache off.

    USAGE: \(usage)

    ARGUMENTS:
      object, archive         Relocatable objects (.o) and ar archives (.a).
      argument                The program's arguments (argv[1], ...).

    OPTIONS:
      -n                      Link completely, then exit 0 without running anything.
      -v                      Print the layout, stubs, GOT, relocations and phase times on stderr.
      -e entry                The entry function (default: main).
      -l library              Also resolve against liblibrary.so (-l stdc++: the run is
                              handed over to lkmrun-cxx, beside lkmrun).
      --cache dir             Cache linked images in dir.
      --no-cache              Link every time; use no cache.
      --perf-map              Write /tmp/perf-PID.map of the program's functions, for perf report.
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
  /// `--perf-map`: write /tmp/perf-PID.map of the program's functions, for perf report.
  var perfMap = false

  /// A usage error: the message, the usage, exit 64.
  static func usageError(_ message: String) -> Never {
    writeStandardError(
      "lkmrun: \(message)\nusage: \(usage)\n  See 'lkmrun --help' for more information.\n")
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
        usageError(
          option.hasPrefix("--")
            ? "option '\(option)' requires an argument"
            : "option requires an argument -- \(option.dropFirst())")
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
        text.withUTF8 { buffer in _ = unsafe write(1, buffer.baseAddress, buffer.count) }
        exit(0)
      }
      if word == "--no-cache" {
        command.noCache = true
        i += 1
        continue
      }
      if word == "--cache" || word.hasPrefix("--cache=") {
        command.cacheDirectory =
          word == "--cache" ? value("--cache", "") : String(word.dropFirst(8))
        i += 1
        continue
      }
      if word == "--perf-map" {
        command.perfMap = true
        i += 1
        continue
      }
      if word.hasPrefix("--") { usageError("unrecognized option '\(word)'") }
      // After the objects, the first word that names no .o or .a file begins the program's
      // arguments (as if -- preceded it).
      if !command.inputs.isEmpty && !word.hasSuffix(".o") && !word.hasSuffix(".a") {
        command.arguments = Array(argv[i...])
        break
      }
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
          default: usageError("unknown option -- \(c)")
          }
        }
      } else {
        command.inputs.append(word)
      }
      i += 1
    }
    return command
  }

  public static func main(_ executable: Executable) -> Never {
    _ = lkmrun_host_data_count()
    let command = parse(Array(CommandLine.arguments.dropFirst()))
    if command.inputs.isEmpty { usageError("an object or archive is needed") }
    if executable == .lkmrun && command.library.contains("stdc++") { handOverToCxx() }
    exit(command.execute())
  }

  /// A program linked with -l stdc++ runs in lkmrun-cxx (beside lkmrun, same arguments):
  /// lkmrun's own libstdc++ is linked in and hidden, and a module needs the shared library's,
  /// with its data objects copied where the module reaches them.
  static func handOverToCxx() -> Never {
    let exe = system_executablePath()
    let directory = exe.lastIndex(of: "/").map { String(exe[..<$0]) } ?? "."
    let path = directory + "/lkmrun-cxx"
    unsafe execv(path, CommandLine.unsafeArgv)
    let reason = unsafe String(cString: strerror(errno))
    writeStandardError("lkmrun: -l stdc++ needs \(path): \(reason)\n")
    exit(1)
  }

  func fail(_ error: LinkError) -> Int32 {
    for line in error.lines { writeStandardError("lkmrun: \(line)\n") }
    return 1
  }

  func execute() -> Int32 {
    let start = monotonicNanoseconds()
    let module: LoadedModule
    var advice: LinkAdvice?
    do {
      let host = try HostSymbolProvider(libraries: library)
      var options = LinkOptions(providers: [host])
      // Consulted only for what the link cannot resolve: a run that links pays nothing.
      let hints = LinkAdvice(inputs: self.inputs, libraries: host.libraries)
      options.suggest = hints.suggest
      advice = hints
      options.moduleName = self.inputs[0]
      options.entry = entry
      options.runtimeArchives = [libgcc]
      options.threadLocalStorage = unsafe StaticTLS(
        address: UInt(bitPattern: lkmrun_tls_reserve_address()), size: Int(LKMRUN_TLS_RESERVE),
        alignment: Int(LKMRUN_TLS_ALIGNMENT))
      if !noCache && !ImageCache.disabledByEnvironment {
        // With --perf-map, a cached image is read into anonymous memory (perf looks up
        // samples there in the map, and in a mapped file's own symbols elsewhere).
        if let cacheDirectory {
          options.cache = try ImageCache(directory: cacheDirectory, anonymousImages: perfMap)
        } else {
          options.cache = ImageCache.standard(anonymousImages: perfMap)
        }
      }
      module = try ModuleLinker(options: options).link(contentsOf: self.inputs)
      if module.address(ofExport: entry) == nil {
        if let problem = self.inputs.lazy.compactMap(notMachineCode).first { return fail(problem) }
        return fail(
          LinkError(.noEntryPoint, "\(self.inputs[0]): entry point '\(entry)' is not defined"))
      }
    } catch {
      // An LTO object is told apart only when the link fails (the check reads the inputs
      // again: a successful run, a cached one above all, pays nothing for it).
      if let problem = self.inputs.lazy.compactMap(notMachineCode).first { return fail(problem) }
      return fail(advice?.explain(error) ?? error)
    }
    if verbose { report(module, total: monotonicNanoseconds() - start) }
    if linkOnly { return 0 }
    registerForDebugging(module, paths: self.inputs, perfMap: perfMap)
    // The module's handlers and destructors run at exit, also when the module calls exit()
    // itself: registered before its constructors, they run after everything main registers.
    unsafe running = module
    atexit { unsafe running?.runFinalizers() }
    unsafe crashingProgram = self.inputs[0]
    installCrashReport()
    module.runInitializers()
    let status = module.callMain(entry, arguments: [self.inputs[0]] + arguments) ?? 1
    flushStandardStreams()
    return status
  }

  func report(_ module: LoadedModule, total: UInt64) {
    let s = module.statistics
    var out =
      "lkmrun: \(s.objectCount) objects linked at \(hex(module.baseAddress)), \(module.size) bytes\n"
    for segment in s.segments {
      out +=
        "  \(segment.name.rightPadded(7)) \(hex(segment.address)) \(String(segment.size).leftPadded(9)) bytes \(segment.protection)\n"
    }
    out += "  stubs \(s.stubCount), GOT entries \(s.gotCount)\n"
    switch s.cache {
    case nil: out += "  cache off\n"
    case .hit: out += "  cache hit\n"
    case .stored(let missed): out += "  cache miss (\(missed)): stored\n"
    case .notStored(let missed, let reason):
      out += "  cache miss (\(missed)): not stored: \(reason)\n"
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

// MARK: - libgcc

/// libgcc.a, searched as gcc's driver links it (after the objects) for the helpers compiled
/// code calls and no C library defines: `__udivti3`, `__popcountdi2`, `__cpu_model` and
/// `__cpu_indicator_init` (`__builtin_cpu_supports`), `__mulsc3`... Found only when a link has
/// undefined symbols left: `$LKM_LIBGCC`, else what `gcc -print-libgcc-file-name` prints.
let libgcc = RuntimeArchive(name: "libgcc.a") {
  guard let path = libgccPath(), case .archive(let archive)? = try? LinkInput.read(path) else {
    return nil
  }
  return archive
}

func libgccPath() -> String? {
  if let path = unsafe getenv("LKM_LIBGCC") { return unsafe String(cString: path) }
  guard let pipe = unsafe popen("gcc -print-libgcc-file-name 2>/dev/null", "r") else { return nil }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 512)
  while true {
    let n = unsafe fread(&buffer, 1, buffer.count, pipe)
    if n <= 0 { break }
    bytes += buffer[0..<n]
  }
  guard unsafe pclose(pipe) == 0 else { return nil }
  while let last = bytes.last, last == 10 || last == 13 || last == 32 { bytes.removeLast() }
  guard bytes.first == 0x2f else { return nil }  // an absolute path, not "libgcc.a"
  return String(decoding: bytes, as: UTF8.self)
}

// MARK: - Objects that hold no machine code

/// LLVM bitcode (clang -flto) or GCC's slim LTO objects (gcc -flto): the message modload gives.
func notMachineCode(_ path: String) -> LinkError? {
  let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return nil }
  defer { close(fd) }
  var head = [UInt8](repeating: 0, count: 4)
  guard unsafe read(fd, &head, 4) == 4 else { return nil }
  if head == [0x42, 0x43, 0xC0, 0xDE] || head == [0xDE, 0xC0, 0x17, 0x0B] {
    return LinkError(
      .malformedInput,
      "\(path): is LLVM bitcode (clang -flto), not machine code: compile without -flto")
  }
  guard head == [0x7F, 0x45, 0x4C, 0x46], let input = try? LinkInput.read(path),
    case .object(let object) = input
  else { return nil }
  for i in object.symbols.indices where i != 0 && object.symbolName(i) == "__gnu_lto_slim" {
    return LinkError(
      .malformedInput,
      "\(path): holds GCC's intermediate code only (gcc -flto), not machine code: compile without -flto, or with -ffat-lto-objects"
    )
  }
  return nil
}

// MARK: - A program killed by a signal

/// The object named in the crash report.
nonisolated(unsafe) var crashingProgram = ""
/// Where a crash handler runs (the program's stack may be what overflowed).
nonisolated(unsafe) var crashStack: UnsafeMutableRawPointer?

/// Reports a program killed by a synchronous signal as a shell would, with where it was:
/// `lkmrun: prog.o: Segmentation fault at 0x0 in main+0x12`, then exits with 128 + the signal
/// (no Swift crash report: the crash is the program's, not lkmrun's).
func installCrashReport() {
  let size = 256 * 1024
  unsafe crashStack = unsafe malloc(size)
  var stack = unsafe stack_t()
  unsafe stack.ss_sp = unsafe crashStack
  unsafe stack.ss_size = size
  unsafe stack.ss_flags = 0
  unsafe sigaltstack(&stack, nil)
  for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT, SIGSYS] {
    var action = sigaction()
    unsafe action.__sigaction_handler.sa_sigaction = unsafe onCrash
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | Int32(bitPattern: SA_RESETHAND)
    unsafe sigemptyset(&action.sa_mask)
    unsafe sigaction(signal, &action, nil)
  }
}

/// The program counter of a signal's context (gregs[REG_RIP], REG_RIP being 16 on x86-64).
func programCounter(_ context: UnsafeMutableRawPointer?) -> UInt64? {
  guard let context = unsafe context else { return nil }
  let uc = unsafe context.assumingMemoryBound(to: ucontext_t.self)
  return unsafe withUnsafeBytes(of: uc.pointee.uc_mcontext.gregs) { gregs in
    unsafe UInt64(bitPattern: gregs.load(fromByteOffset: 16 * 8, as: Int64.self))
  }
}

let onCrash:
  @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = {
    signal, info, context in
    var text = unsafe "lkmrun: \(crashingProgram): \(String(cString: strsignal(signal)))"
    if signal == SIGSEGV || signal == SIGBUS, let info = unsafe info {
      let address = unsafe UInt(bitPattern: info.pointee._sifields._sigfault.si_addr)
      text += " at \(hex(UInt64(address)))"
    }
    if let pc = unsafe programCounter(context) {
      if let module = unsafe running, module.contains(pc) {
        text += " in \(symbolize(pc) ?? module.symbolize(pc) ?? hex(pc))"
      } else {
        text += " in lkmrun or a library, pc \(hex(pc))"
      }
    }
    text += "\n"
    flushStandardStreams()
    writeStandardError(text)
    _exit(128 + signal)
  }
