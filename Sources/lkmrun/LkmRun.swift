import ArgumentParser
import CLkmrunHost
import Glibc
import ModuleLinker

@main
struct LkmRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lkmrun",
    abstract: "Link relocatable objects into this process and run them.",
    usage: "lkmrun [-nv] [-e ENTRY] [-l LIB]... OBJECT|ARCHIVE... [-- ARG...]",
    discussion: """
      Links every object (and the archive members they need) into one module in this process, \
      resolving undefined symbols against the host C library and any library named with -l, \
      then calls int main(int argc, char **argv) (or ENTRY), runs the finalizers, flushes stdio \
      and exits with main's status. Arguments after -- are passed to main after argv[0].
      """)

  @Flag(name: .customShort("n"), help: "Link completely, then exit 0 without running anything.")
  var linkOnly = false

  @Flag(name: .customShort("v"), help: "Print the layout, stubs, GOT, relocations and phase times on stderr.")
  var verbose = false

  @Option(name: .customShort("e", allowingJoined: true), help: "The entry function (default: main).")
  var entry = "main"

  @Option(name: .customShort("l", allowingJoined: true), help: "Also resolve against libLIB.so.")
  var library: [String] = []

  @Argument(help: "Relocatable objects (.o) and ar archives (.a).")
  var inputs: [String] = []

  var arguments: [String] = []

  static func main() {
    _ = lkmrun_host_data_count()
    var argv = Array(CommandLine.arguments.dropFirst())
    var passed: [String] = []
    if let split = argv.firstIndex(of: "--") {
      passed = Array(argv[(split + 1)...])
      argv = Array(argv[..<split])
    }
    var command: LkmRun
    do {
      command = try parse(argv)
    } catch {
      exit(withError: error)
    }
    if command.inputs.isEmpty {
      exit(withError: ValidationError("at least one object or archive is needed"))
    }
    command.arguments = passed
    Glibc.exit(command.execute())
  }

  func fail(_ error: LinkError) -> Int32 {
    for line in error.lines { writeStandardError("Error: \(line)\n") }
    return 1
  }

  func execute() -> Int32 {
    let start = ContinuousClock.now
    let module: LoadedModule
    do {
      var inputs: [LinkInput] = []
      for path in self.inputs { inputs.append(try LinkInput.read(path)) }
      let host = try HostSymbolProvider(libraries: library)
      var options = LinkOptions(providers: [host])
      options.moduleName = self.inputs[0]
      options.entry = entry
      module = try ModuleLinker(options: options).link(inputs)
      if module.exports[entry] == nil {
        return fail(LinkError(.noEntryPoint, "\(self.inputs[0]): entry point '\(entry)' is not defined"))
      }
    } catch {
      return fail(error)
    }
    if verbose { report(module, total: ContinuousClock.now - start) }
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

  func report(_ module: LoadedModule, total: Duration) {
    let s = module.statistics
    var out = "lkmrun: \(s.objectCount) objects linked at \(hex(module.baseAddress)), \(module.size) bytes\n"
    for segment in s.segments {
      out += "  \(segment.name.rightPadded(7)) \(hex(segment.address)) \(String(segment.size).leftPadded(9)) bytes \(segment.protection)\n"
    }
    out += "  stubs \(s.stubCount), GOT entries \(s.gotCount)\n"
    out += "  relocations \(s.relocationCount):"
    for (name, count) in s.relocationsByType.sorted(by: { $0.value > $1.value }) {
      out += " \(name.replacingOccurrences(of: "R_X86_64_", with: "")) \(count)"
    }
    out += "\n  time:"
    for phase in s.phases {
      out += " \(phase.name) \(milliseconds(Double(phase.nanoseconds) / 1e6)) ms"
    }
    let ms = Double(total.components.attoseconds) / 1e15 + Double(total.components.seconds) * 1e3
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
