import ArgumentParser
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
struct ModLoad: ParsableCommand {
  static let synopsis = "modload [-dnSsv] [-A kernel] [-e entry]\n\t[-o output_file] [-p postinstall] input_file ..."
  static let configuration = CommandConfiguration(commandName: "modload", usage: synopsis)

  @Flag(name: .customShort("d")) var debug = false
  @Flag(name: .customShort("n")) var checkOnly = false
  @Flag(name: .customShort("S")) var keepOutput = false
  @Flag(name: .customShort("s")) var noSymbols = false
  @Flag(name: .customShort("v")) var verbose = false
  @Option(name: .customShort("A", allowingJoined: true)) var kernelFile: String?
  @Option(name: .customShort("e", allowingJoined: true)) var entry: String?
  @Option(name: .customShort("o", allowingJoined: true)) var output: String?
  @Option(name: .customShort("p", allowingJoined: true)) var postinstall: String?
  @Flag(name: .customLong("sandbox")) var sandbox = false
  @OptionGroup var device: DeviceOption
  @Argument var inputs: [String] = []

  static func main() {
    BSD.progname = "modload"
    let arguments = Array(CommandLine.arguments.dropFirst())
    if BSD.checkOptions(arguments.filter { !$0.hasPrefix("--device") && $0 != "--sandbox" }, "dnSsvA:e:o:p:") {
      BSD.usage(synopsis)
    }
    guard let command = try? parse(arguments), !command.inputs.isEmpty else { BSD.usage(synopsis) }
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
    // --sandbox: the trial runs before the session opens, so that the device is not held
    // while the module runs in the sandbox.
    if sandbox && !checkOnly { trialLoad(request) }
    // 1. Open the device read-write.
    let path = DeviceClient.defaultPath(device.device)
    let client: DeviceClient
    do { client = try DeviceClient(path: path, write: true) } catch { BSD.err(3, path, error.openBSDText) }
    if debug {
      BSD.write("modload: entry = \(request.entry ?? request.entryCandidates.joined(separator: " or ")), \(request.inputs.count) input(s)\n")
    }

    var reply = perform(client, path, .load(request))
    if reply.error == .EINVAL, case .refused = reply.body, !checkOnly {
      BSD.warnx("module failed to load using new version; trying old version")
      request.version = 1
      reply = perform(client, path, .load(request))
    }
    if !reply.output.isEmpty { BSD.write(reply.output, to: 1) }
    let result: LoadResult
    switch (reply.error, reply.body) {
    case (nil, .loaded(let loaded)):
      result = loaded
    case (_, .linkFailed(let lines)):
      for line in lines { BSD.write("modload: \(line)\n") }
      Glibc.exit(1)
    case (_?, .refused), (_?, .panic):
      // lkmd --trial-load says why (the sandbox's verdict); the kernel's own refusals do not.
      for line in reply.lines { BSD.write("modload: \(line)\n") }
      BSD.err(14, "error initializing module", reply.errorText)
    default:
      BSD.err(9, "can't reserve memory", reply.errorText)
    }
    if verbose { BSD.warnx("reserving \(ModLoad.imageSize(result.placements)) bytes of memory") }
    if debug { BSD.write("modentry = 0x\(String(result.entry, radix: 16))\n") }
    let outputPath = output ?? String(first[..<dot])
    var written: [String] = []
    if output != nil || keepOutput {
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

  /// Steps 2 and 3: the module object's name, the inputs, the entry (modload's own checks,
  /// before the kernel sees anything).
  func prepare() -> LoadRequest {
    // 2. The module object must end in .o (archives, .a, may follow it).
    let first = inputs[0]
    guard let dot = first.lastIndex(of: "."), first[dot...] == ".o" else {
      BSD.errx(2, "module object must end in .o")
    }
    var request = LoadRequest(inputs: [], entry: "")
    for input in inputs {
      guard let bytes = readFile(input) else { BSD.err(4, input, String(cString: strerror(errno))) }
      request.inputs.append(.init(name: input, bytes: bytes))
    }
    // 3. The entry: -e, else xxxinit, else BASENAME_lkmentry; the kernel applies the rule to
    // the objects it parses (a module that defines none is refused with OpenBSD's message).
    request.entry = entry
    request.exportSymbols = !noSymbols
    request.checkOnly = checkOnly
    return request
  }

  /// `-n -A FILE`: the check the running kernel would make, against a symbol file (the
  /// kernel's own check, ``ModuleCheck``).
  func offlineCheck(_ path: String) {
    guard let bytes = readFile(path) else {
      BSD.errx(1, "can't open \(path)\n\(path): please specify alternative kernel executable with -A option")
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
    BSD.warnx("sandbox: \(verdict.description)")
    if !verdict.allowsLoad { BSD.errx(1, "sandbox: not loading \(inputs[0])") }
  }

  func perform(_ client: DeviceClient, _ path: String, _ request: Request) -> Reply {
    do { return try client.perform(request) } catch { BSD.err(3, path, error.openBSDText) }
  }

  /// Whether any input object defines `name` (nlist(3) on each input).
  func defines(_ name: String, _ inputs: [LoadRequest.Input]) -> Bool {
    for input in inputs {
      let bytes = FileBytes(input.bytes, name: input.name)
      if Archive.isArchive(bytes) {
        if let archive = try? Archive(bytes: bytes), archive.symbolIndex[name] != nil { return true }
        continue
      }
      guard let object = try? ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: input.name)
      else { continue }
      for i in object.symbols.indices where !object.symbols[i].isUndefined && i != 0 {
        if object.symbolName(i) == name { return true }
      }
    }
    return false
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

func readFile(_ path: String) -> [UInt8]? {
  guard let bytes = try? FileBytes(contentsOf: path) else { return nil }
  return Array(UnsafeRawBufferPointer(start: bytes.base, count: bytes.count))
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
