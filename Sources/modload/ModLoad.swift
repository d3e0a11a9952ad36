import ELFObject
import Glibc
import LKMDevice
import LKMInterface
import LKMKernel
import LKMSandbox
import LKMToolSupport
import ModuleLinker

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
    BSD.progname = "modload"
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
      offlineCheck(kernelFile)
      return
    }
    var request = prepare()
    let first = inputs[0]
    let dot = first.lastIndex(of: ".")!
    let outputPath = output ?? String(first[..<dot])
    // The output file is created before the load, as OpenBSD's prelink created it: a path
    // that cannot be written stops modload before the module is loaded.
    let writesOutput = output != nil || keepOutput
    if writesOutput { createOutput(outputPath, for: first) }
    // --sandbox: the trial runs before the session opens, so that the device is not held
    // while the module runs in the sandbox.
    if sandbox && !checkOnly { trialLoad(request) }
    // 1. Open the device read-write.
    let client = BSD.openDevice(devicePath, write: true, openFailure: 3)
    let path = client.path
    if debug {
      BSD.write("modload: entry = \(request.entry ?? request.entryCandidates.joined(separator: " or ")), \(request.inputs.count) input(s)\n")
    }

    var reply = perform(client, path, .load(request))
    // OpenBSD's -v: the memory reserved, once the prelink succeeded and before anything the
    // reservation and the load led to (the loaded image's size, else a plan of the link's).
    if verbose {
      if case .loaded(let result) = reply.body {
        BSD.warnx("reserving \(ModLoad.imageSize(result.placements)) bytes of memory")
      } else if case .linkFailed = reply.body {
      } else if let size = plannedSize(request) {
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
      Glibc.exit(1)
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
        BSD.warn("not loading symbols: kernel does not support symbol table loading", reply.errorText)
      }
      BSD.err(9, "can't reserve memory", reply.errorText)
    }
    if debug { BSD.write("modentry = 0x\(String(result.entry, radix: 16))\n") }
    var written: [String] = []
    if writesOutput {
      written = writeOutput(outputPath, request.inputs, result.placements)
    }
    // As on OpenBSD, the output goes at exit unless -S, even when named with -o.
    defer { if !keepOutput { for file in written { unlink(file) } } }
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
      let args = [postinstall, "\(s.id)", "0x\(String(s.type, radix: 16))", "\(s.offset)"]
      var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
      argv.append(nil)
      execv(postinstall, argv)
      BSD.err(16, "can't exec `\(postinstall)'", String(cString: strerror(errno)))
    }
  }

  /// Creates (empties) the output file before the load; a failure is modload's failed prelink.
  func createOutput(_ path: String, for object: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      BSD.warn(path, String(cString: strerror(errno)))
      BSD.errx(1, "can't prelink `\(object)' creating `\(path)'")
    }
    close(fd)
  }

  /// Removes an output file created for a load that did not happen (unless -S).
  func removeOutput(_ path: String, _ created: Bool) {
    if created && !keepOutput { unlink(path) }
  }

  /// The image size a link of the objects plans (undefined symbols left aside), page-rounded.
  func plannedSize(_ request: LoadRequest) -> UInt64? {
    guard case .success(let inputs) = Kernel.parse(request.inputs) else { return nil }
    var options = LinkOptions(providers: [])
    options.allowUndefined = true
    options.moduleName = request.displayName
    let report = ModuleLinker(options: options).check(inputs)
    return ModLoad.imageSize(
      report.placements.map {
        PlacedSection(
          object: $0.object, index: $0.index, name: $0.name, address: $0.address, size: $0.size)
      })
  }

  /// Steps 2 and 3: the module object's name, the inputs through the ELF reader, the entry
  /// (modload's own checks, before the device is opened: a bad object gets the reader's
  /// message whether or not lkmd runs).
  func prepare() -> LoadRequest {
    // 2. The module object must end in .o (archives, .a, may follow it).
    let first = inputs[0]
    guard let dot = first.lastIndex(of: "."), first[dot...] == ".o" else {
      BSD.errx(2, "module object must end in .o")
    }
    var request = LoadRequest(inputs: [], entry: "")
    for input in inputs {
      // OpenBSD's nlist(3) of a missing input was err(1).
      guard let bytes = readFile(input) else { BSD.err(1, input, readError) }
      request.inputs.append(.init(name: input, bytes: bytes))
    }
    // The ELF reader on every input, then the entry: -e, else xxxinit, else
    // BASENAME_lkmentry (the kernel applies the same rule to the objects it parses).
    request.entry = entry
    request.exportSymbols = !noSymbols
    request.checkOnly = checkOnly
    let parsed: [LinkInput]
    switch Kernel.parse(request.inputs) {
    case .success(let inputs): parsed = inputs
    case .failure(let error):
      for line in error.lines { BSD.write("modload: \(line)\n") }
      Glibc.exit(1)
    }
    if case .failure(let error) = Kernel.entryName(of: request, in: parsed) {
      for line in error.lines { BSD.write("modload: \(line)\n") }
      Glibc.exit(1)
    }
    return request
  }

  /// `-n -A FILE`: the check the running kernel would make, against a symbol file (the
  /// kernel's own check, ``ModuleCheck``).
  func offlineCheck(_ path: String) {
    guard let bytes = readFile(path) else {
      BSD.errx(1, "can't open \(path)\nmodload: please specify alternative kernel executable with -A option")
    }
    let request = prepare()
    let table: SymbolTableProvider
    do { table = try SymbolTableProvider(parsing: String(decoding: bytes, as: UTF8.self), file: path) } catch {
      BSD.errx(1, error.message)
    }
    switch ModuleCheck.offline(request, symbols: table) {
    case .linkFailed(let error):
      for line in error.lines { BSD.write("modload: \(line)\n") }
      Glibc.exit(1)
    case .loaded(let result):
      if verbose {
        BSD.warnx("reserving \(ModLoad.imageSize(result.placements)) bytes of memory")
        for warning in result.warnings { BSD.write("modload: warning: \(warning)\n") }
      }
    case .refused(let refusal):
      BSD.err(14, "error initializing module", refusal.errno.text)
    }
  }

  /// The page-rounded extent of the placed sections (what OpenBSD's modload reserved).
  static func imageSize(_ placements: [PlacedSection]) -> UInt64 {
    guard let low = placements.map(\.address).min(),
      let high = placements.map({ $0.address + $0.size }).max()
    else { return 0 }
    return (high - (low & ~4095) + 4095) / 4096 * 4096
  }

  /// --sandbox: link and run the module in the sandbox first (lkm-sandbox-child), print the
  /// verdict, and go on only if it loaded there with LKM_E_LOAD returning 0. Not OpenBSD's.
  func trialLoad(_ request: LoadRequest) {
    let verdict: SandboxVerdict
    do {
      verdict = try Sandbox().run(SandboxRequest(inputs: request.inputs, entry: request.entry))
    } catch {
      BSD.errx(1, "sandbox: \(error)")
    }
    BSD.warnx("sandbox: \(ModLoad.describe(verdict))")
    if !verdict.allowsLoad { BSD.errx(1, "sandbox: not loading \(inputs[0])") }
  }

  /// The sandbox's verdict, with the hooks' errors as OpenBSD's errno names and texts
  /// (`LKM_E_LOAD EIO (Input/output error)`) rather than numbers.
  static func describe(_ verdict: SandboxVerdict) -> String {
    guard case .loaded(let load, let stat, let unload) = verdict, stat != nil || unload != nil || load != 0
    else { return verdict.description }
    func result(_ value: Int32) -> String {
      value == 0 ? "0" : "\(KernelErrno(value).name) (\(KernelErrno(value).text))"
    }
    var parts = ["LKM_E_LOAD \(result(load))"]
    if let stat { parts.append("LKM_E_STAT \(result(stat))") }
    if let unload { parts.append("LKM_E_UNLOAD \(result(unload))") }
    return "loaded: " + parts.joined(separator: ", ")
  }

  func perform(_ client: DeviceClient, _ path: String, _ request: Request) -> Reply {
    do { return try client.perform(request) } catch {
      BSD.deviceFailed(path, error, openFailure: 3)
    }
  }

  /// The linked image for gdb's add-symbol-file: each input object with every allocated
  /// section's address set to where the kernel loaded it. The first object goes to `path`,
  /// the Nth (N > 1) to `path.N`.
  @discardableResult
  func writeOutput(_ path: String, _ inputs: [LoadRequest.Input], _ placements: [PlacedSection]) -> [String] {
    var n = 0
    var written: [String] = []
    for input in inputs {
      let bytes = FileBytes(input.bytes, name: input.name)
      guard !Archive.isArchive(bytes),
        let object = try? ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: input.name)
      else { continue }
      n += 1
      var addresses: [Int: UInt64] = [:]
      for p in placements where p.object == input.name { addresses[p.index] = p.address }
      let image = object.withSectionAddresses(addresses)
      let target = n == 1 ? path : "\(path).\(n)"
      guard writeFile(target, image) else { BSD.err(4, target, String(cString: strerror(errno))) }
      written.append(target)
    }
    return written
  }
}

/// Why the last ``readFile(_:)`` failed (strerror's text).
nonisolated(unsafe) var readError = ""

/// The file's bytes, or nil with ``readError`` set (a directory is "Is a directory").
func readFile(_ path: String) -> [UInt8]? {
  var info = stat()
  guard stat(path, &info) == 0 else {
    readError = String(cString: strerror(errno))
    return nil
  }
  if info.st_mode & S_IFMT == S_IFDIR {
    readError = String(cString: strerror(EISDIR))
    return nil
  }
  guard let bytes = try? FileBytes(contentsOf: path) else {
    readError = String(cString: strerror(errno == 0 ? EIO : errno))
    return nil
  }
  return bytes.copyBytes()
}

func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else { return false }
  defer { close(fd) }
  var done = 0
  while done < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
    if n <= 0 { return false }
    done += n
  }
  return true
}
