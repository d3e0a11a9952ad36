import Glibc
import LKMBase
import LKMDevice
import LKMInterface
import LKMKernel
import LKMLoader
import LKMToolSupport

/// modload(8): load a module into the running kernel.
///
/// The corresponding OpenBSD code is sbin/modload/modload.c. Here the kernel links the module
/// itself, so modload sends the objects and the entry's name in one load request; a link
/// failure is the exit-1 case that ld failing was.
@main
struct ModLoad {
  static let synopsis =
    "modload [-dnSsv] [-A kernel] [-e entry] [-o output_file] [-p postinstall]\n\t[--sandbox] [--device path] input_file ..."
  static let help = """
    usage: \(synopsis)

    Link input_file (a relocatable object; further objects and archives may follow) into the
    running lkm kernel and call its entry with LKM_E_LOAD.

      -d                 print debugging information on stderr
      -n                 do everything but call the entry: check that the module links
      -S                 keep the output file (-o) after exiting
      -s                 do not add the module's symbols to the kernel symbol table
      -v                 print the memory reserved, and warnings
      -A kernel          with -n: check against this symbol file (lkmctl ksyms output)
      -e entry           the entry function (default: xxxinit, else BASENAME_lkmentry)
      -o output_file     write the linked image, for gdb's add-symbol-file
      -p postinstall     run this program after loading: id, type and offset as arguments
      --sandbox          load it in a sandbox first, and only if it loads there
      --device path      the lkm device (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm)
      -h, --help         print this help

    See modload(8).

    """

  var debug = false
  var checkOnly = false
  var keepOutput = false
  var noSymbols = false
  var verbose = false
  var kernelFile: String?
  var entry: String?
  var output: String?
  var postinstall: String?
  var sandbox = false
  var devicePath: String?
  var inputs: [String] = []

  static func main() {
    unsafe BSD.progname = "modload"
    guard
      let options = BSD.getopt(
        Array(CommandLine.arguments.dropFirst()), "dnSsvA:e:o:p:",
        long: ["device": true, "sandbox": false])
    else { BSD.usage(synopsis) }
    if options.help {
      BSD.write(help, to: 1)
      exit(0)
    }
    guard !options.operands.isEmpty else { BSD.usage(synopsis) }
    var command = ModLoad()
    command.debug = options.has("d")
    command.checkOnly = options.has("n")
    command.keepOutput = options.has("S")
    command.noSymbols = options.has("s")
    command.verbose = options.has("v")
    command.kernelFile = options.values["A"]
    command.entry = options.values["e"]
    command.output = options.values["o"]
    command.postinstall = options.values["p"]
    command.sandbox = options.longFlags.contains("sandbox")
    command.devicePath = options.longValues["device"]
    command.inputs = options.operands
    command.load()
  }

  func load() {
    if let kernelFile {
      guard checkOnly else {
        BSD.errx(1, "-A checks a module against a symbol file without loading it: use it with -n")
      }
      // -n -A FILE: the check the running kernel would make, against a symbol file.
      let symbols = ModLoad.run { () throws(ModuleLoad.Failure) in
        try ModuleLoad.readSymbolFile(kernelFile)
      }
      let module = prepare()
      let result = ModLoad.run { () throws(ModuleLoad.Failure) in
        try module.check(againstSymbolFile: kernelFile, symbols)
      }
      if verbose {
        BSD.warnx("reserving \(ModuleLoad.imageSize(result.placements)) bytes of memory")
        for warning in result.warnings { BSD.write("modload: warning: \(warning)\n") }
      }
      return
    }
    let module = prepare()
    var request = module.request
    let first = inputs[0]
    let dot = first.lastIndex(of: ".")!
    let outputPath = output ?? String(first[..<dot])
    // The output file is created before the load, as OpenBSD's prelink created it: a path
    // that cannot be written stops modload before the module is loaded.
    let writesOutput = output != nil || keepOutput
    if writesOutput {
      ModLoad.run { () throws(ModuleLoad.Failure) in try module.createOutput(outputPath) }
    }
    // --sandbox: the trial runs before the session opens, so that the device is not held
    // while the module runs in the sandbox.
    if sandbox && !checkOnly {
      let trial = ModLoad.run { () throws(ModuleLoad.Failure) in try module.trial() }
      BSD.warnx("sandbox: \(trial.verdict)")
      if !trial.allowsLoad { BSD.errx(1, "sandbox: not loading \(inputs[0])") }
    }
    // 1. Open the device read-write.
    let client = BSD.openDevice(devicePath, write: true, openFailure: 3)
    let path = client.path
    if debug {
      BSD.write(
        "modload: entry = \(request.entry ?? request.entryCandidates.joined(separator: " or ")), \(request.inputs.count) input(s)\n"
      )
    }

    var reply = perform(client, path, .load(request))
    // OpenBSD's -v: the memory reserved, once the prelink succeeded and before anything the
    // reservation and the load led to (the loaded image's size, else a plan of the link's).
    if verbose {
      if case .loaded(let result) = reply.body {
        BSD.warnx("reserving \(ModuleLoad.imageSize(result.placements)) bytes of memory")
      } else if case .linkFailed = reply.body {
      } else if let size = module.plannedImageSize() {
        BSD.warnx("reserving \(size) bytes of memory")
      }
    }
    if reply.error == .EINVAL, case .refused = reply.body, !checkOnly {
      BSD.printOutput(reply.output)
      BSD.warnx("module failed to load using new version; trying old version")
      request.version = 1
      reply = perform(client, path, .load(request))
    }
    BSD.printOutput(reply.output)
    let result: LoadResult
    switch (reply.error, reply.body) {
    case (nil, .loaded(let loaded)):
      result = loaded
    case (_, .linkFailed(let lines)):
      removeOutput(outputPath, writesOutput)
      for line in lines { BSD.write("modload: \(line)\n") }
      exit(1)
    case (_?, .refused), (_?, .panic):
      removeOutput(outputPath, writesOutput)
      // lkmd --trial-load says why (the sandbox's verdict); the kernel's own refusals do not.
      for line in reply.lines { BSD.write("modload: \(line)\n") }
      BSD.fail(14, "error initializing module", reply)
    default:
      removeOutput(outputPath, writesOutput)
      // OpenBSD's LMRESERV failed (securelevel, a read-only device): it warned, tried the old
      // interface without symbols, and gave up.
      if !noSymbols {
        BSD.warn(
          "not loading symbols: kernel does not support symbol table loading", reply.errorText)
      }
      BSD.err(9, "can't reserve memory", reply.errorText)
    }
    if debug { BSD.write("modentry = \(hex(result.entry))\n") }
    var written: [String] = []
    if writesOutput {
      written = ModLoad.run { () throws(ModuleLoad.Failure) in
        try module.writeOutput(outputPath, result.placements)
      }
    }
    // As on OpenBSD, the output goes at exit unless -S, even when named with -o.
    defer { if !keepOutput { for file in written { unsafe unlink(file) } } }
    if checkOnly {
      if verbose {
        for warning in result.warnings { BSD.write("modload: warning: \(warning)\n") }
      }
      return
    }
    BSD.write("Module loaded as ID \(result.id)\n", to: 1)

    if let postinstall {
      let stat = perform(client, path, .stat(id: result.id, name: nil))
      guard stat.error == nil, let s = stat.status else {
        BSD.errx(15, "error fetching module stats for post-install")
      }
      client.close()
      let args = [postinstall, "\(s.id)", hex(s.type), "\(s.offset)"]
      var argv: [UnsafeMutablePointer<CChar>?] = unsafe args.map { unsafe strdup($0) }
      unsafe argv.append(nil)
      unsafe execv(postinstall, argv)
      BSD.err(16, "can't exec `\(postinstall)'", unsafe String(cString: strerror(errno)))
    }
  }

  /// The inputs read and parsed, the entry found (before the device is opened).
  func prepare() -> ModuleLoad {
    ModLoad.run { () throws(ModuleLoad.Failure) in
      try ModuleLoad(inputs: inputs, entry: entry, exportSymbols: !noSymbols, checkOnly: checkOnly)
    }
  }

  /// Removes an output file created for a load that did not happen (unless -S).
  func removeOutput(_ path: String, _ created: Bool) {
    if created && !keepOutput { unsafe unlink(path) }
  }

  /// `body`'s value; a failure is printed (`modload: LINE`) and is the exit status.
  static func run<T>(_ body: () throws(ModuleLoad.Failure) -> T) -> T {
    do { return try body() } catch {
      for line in error.lines { BSD.write("modload: \(line)\n") }
      exit(error.status)
    }
  }

  func perform(_ client: DeviceClient, _ path: String, _ request: Request) -> Reply {
    do { return try client.perform(request) } catch {
      BSD.deviceFailed(path, error, openFailure: 3)
    }
  }
}
