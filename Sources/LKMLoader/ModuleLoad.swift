import ELFObject
public import LKMInterface
public import LKMKernel
import LKMSandbox
public import ModuleLinker

/// A load as modload(8) asks for it, up to the device: the inputs read and parsed, the entry
/// found, an offline check against a symbol file (the kernel's own check, ``ModuleCheck``), a
/// trial in the sandbox, and the output files for gdb. modload keeps only its flags, the
/// device's replies and the printing (as kmod's insmod over libkmod).
///
/// The corresponding OpenBSD code is sbin/modload/modload.c (its prelink and `-A`).
public struct ModuleLoad: Sendable {
  /// Why modload stops: its exit status and the lines it prints, each as `modload: LINE`.
  public struct Failure: Error, Sendable {
    public var status: Int32
    public var lines: [String]
    init(_ status: Int32, _ lines: [String]) {
      self.status = status
      self.lines = lines
    }
  }

  /// The request the inputs make: their bytes and names, the entry, the flags.
  public var request: LoadRequest

  /// Reads and parses `inputs` (a relocatable object, then objects or archives) and finds the
  /// entry: `entry`, else xxxinit, else BASENAME_lkmentry, as the kernel does. A bad object gets
  /// the reader's message whether or not lkmd runs.
  ///
  /// - Throws: exit 2 for a first input not ending in `.o`; exit 1 for an input that cannot be
  ///   read (`FILE: strerror`), does not parse, or has no entry.
  public init(inputs: [String], entry: String?, exportSymbols: Bool, checkOnly: Bool)
    throws(Failure)
  {
    // The module object must end in .o (archives, .a, may follow it).
    let first = inputs[0]
    guard let dot = first.lastIndex(of: "."), first[dot...] == ".o" else {
      throw Failure(2, ["module object must end in .o"])
    }
    request = LoadRequest(inputs: [], entry: "")
    request.inputs = try ModuleLoad.readInputs(inputs)
    request.entry = entry
    request.exportSymbols = exportSymbols
    request.checkOnly = checkOnly
    let parsed: [LinkInput]
    switch Kernel.parse(request.inputs) {
    case .success(let inputs): parsed = inputs
    case .failure(let error): throw Failure(1, error.lines)
    }
    if case .failure(let error) = Kernel.entryName(of: request, in: parsed) {
      throw Failure(1, error.lines)
    }
  }

  /// The bytes of each of `files` (lkmctl modinfo reads its inputs as modload does).
  ///
  /// - Throws: exit 1, `FILE: strerror` (OpenBSD's nlist(3) of a missing input was err(1)); a
  ///   directory is "Is a directory".
  public static func readInputs(_ files: [String]) throws(Failure) -> [LoadRequest.Input] {
    var inputs: [LoadRequest.Input] = []
    for file in files {
      do { inputs.append(.init(name: file, bytes: try readFile(file))) } catch {
        throw Failure(1, ["\(file): \(error.text)"])
      }
    }
    return inputs
  }

  /// The symbol file of `-A` (lkmctl ksyms output), read before the inputs as OpenBSD's
  /// modload opened its kernel first.
  ///
  /// - Throws: exit 1, OpenBSD's message for a kernel that does not open.
  public static func readSymbolFile(_ path: String) throws(Failure) -> [UInt8] {
    do { return try readFile(path) } catch {
      throw Failure(
        1, ["can't open \(path)", "please specify alternative kernel executable with -A option"])
    }
  }

  /// `-n -A FILE`: the check the running kernel would make, against the symbol file's `bytes`.
  ///
  /// - Throws: exit 1 for a malformed symbol file or with every link problem; exit 14 for the
  ///   kernel's refusal.
  public func check(againstSymbolFile path: String, _ bytes: [UInt8]) throws(Failure) -> LoadResult
  {
    let symbols: SymbolTableProvider
    do {
      symbols = try SymbolTableProvider(parsing: String(decoding: bytes, as: UTF8.self), file: path)
    } catch {
      throw Failure(1, [error.message])
    }
    switch ModuleCheck.offline(request, symbols: symbols) {
    case .linkFailed(let error): throw Failure(1, error.lines)
    case .loaded(let result): return result
    case .refused(let refusal):
      throw Failure(14, ["error initializing module: \(refusal.errno.text)"])
    }
  }

  /// The image size a link of the objects plans (undefined symbols left aside), page-rounded.
  public func plannedImageSize() -> UInt64? {
    guard case .success(let inputs) = Kernel.parse(request.inputs) else { return nil }
    var options = LinkOptions(providers: [])
    options.allowUndefined = true
    options.moduleName = request.displayName
    let report = ModuleLinker(options: options).check(inputs)
    return ModuleLoad.imageSize(
      report.placements.map {
        PlacedSection(
          object: $0.object, index: $0.index, name: $0.name, address: $0.address, size: $0.size)
      })
  }

  /// The page-rounded extent of the placed sections (what OpenBSD's modload reserved).
  public static func imageSize(_ placements: [PlacedSection]) -> UInt64 {
    guard let low = placements.map(\.address).min(),
      let high = placements.map({ $0.address + $0.size }).max()
    else { return 0 }
    return (high - (low & ~4095) + 4095) / 4096 * 4096
  }

  /// `--sandbox`: links and runs the module in the sandbox (lkm-sandbox-child). Not OpenBSD's.
  ///
  /// - Returns: the verdict as modload prints it, and whether it allows the load (it loaded
  ///   there with LKM_E_LOAD returning 0).
  /// - Throws: exit 1 when the sandbox cannot run.
  public func trial() throws(Failure) -> (verdict: String, allowsLoad: Bool) {
    let verdict: SandboxVerdict
    do {
      verdict = try Sandbox().run(SandboxRequest(inputs: request.inputs, entry: request.entry))
    } catch {
      throw Failure(1, ["sandbox: \(error)"])
    }
    return (ModuleLoad.describe(verdict), verdict.allowsLoad)
  }

  /// The sandbox's verdict, with the hooks' errors as OpenBSD's errno names and texts
  /// (`LKM_E_LOAD EIO (Input/output error)`) rather than numbers.
  static func describe(_ verdict: SandboxVerdict) -> String {
    guard case .loaded(let load, let stat, let unload) = verdict,
      stat != nil || unload != nil || load != 0
    else { return verdict.description }
    func result(_ value: Int32) -> String {
      value == 0 ? "0" : "\(KernelErrno(value).name) (\(KernelErrno(value).text))"
    }
    var parts = ["LKM_E_LOAD \(result(load))"]
    if let stat { parts.append("LKM_E_STAT \(result(stat))") }
    if let unload { parts.append("LKM_E_UNLOAD \(result(unload))") }
    return "loaded: " + parts.joined(separator: ", ")
  }

  /// Creates (empties) the output file before the load, as OpenBSD's prelink created it.
  ///
  /// - Throws: exit 1, `PATH: strerror` then `can't prelink …` (a failed prelink).
  public func createOutput(_ path: String) throws(Failure) {
    if let text = system_create(path) {
      throw Failure(
        1, ["\(path): \(text)", "can't prelink `\(request.inputs[0].name)' creating `\(path)'"])
    }
  }

  /// The linked image for gdb's add-symbol-file: each input object with every allocated
  /// section's address set to where the kernel loaded it. The first object goes to `path`,
  /// the Nth (N > 1) to `path.N`.
  ///
  /// - Returns: the files written.
  /// - Throws: exit 4, `FILE: strerror`.
  public func writeOutput(_ path: String, _ placements: [PlacedSection]) throws(Failure) -> [String]
  {
    var n = 0
    var written: [String] = []
    for input in request.inputs {
      let bytes = FileBytes(input.bytes, name: input.name)
      guard !Archive.isArchive(bytes),
        let object = try? ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: input.name)
      else { continue }
      n += 1
      var addresses: [Int: UInt64] = [:]
      for p in placements where p.object == input.name { addresses[p.index] = p.address }
      let image = object.withSectionAddresses(addresses)
      let target = n == 1 ? path : "\(path).\(n)"
      if let text = system_writeFile(target, image) { throw Failure(4, ["\(target): \(text)"]) }
      written.append(target)
    }
    return written
  }
}

/// A file that cannot be read: strerror's text.
struct ReadFailure: Error {
  var text: String
}

/// The file's bytes (a directory is "Is a directory").
func readFile(_ path: String) throws(ReadFailure) -> [UInt8] {
  if let text = system_checkRegularOrOther(path) { throw ReadFailure(text: text) }
  do { return try FileBytes(contentsOf: path).copyBytes() } catch {
    throw ReadFailure(text: system_lastErrorText())
  }
}
