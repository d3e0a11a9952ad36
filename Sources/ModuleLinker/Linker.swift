public import ELFObject

/// An input to a link: an object, or an archive searched for members.
public enum LinkInput: Sendable {
  case object(ObjectFile)
  case archive(Archive)

  /// Reads the file at `path`, as an archive if it starts with the ar magic.
  public static func read(_ path: String) throws(LinkError) -> LinkInput {
    do {
      return try parse(try FileBytes(contentsOf: path))
    } catch {
      throw LinkError(error)
    }
  }

  /// An object or archive from bytes already read (a load request's), named `name`.
  public static func parse(_ bytes: [UInt8], name: String) throws(LinkError) -> LinkInput {
    do {
      return try parse(FileBytes(bytes, name: name))
    } catch {
      throw LinkError(error)
    }
  }

  static func parse(_ bytes: FileBytes) throws(ELFError) -> LinkInput {
    if Archive.isArchive(bytes) { return .archive(try Archive(bytes: bytes)) }
    return .object(try ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: bytes.name))
  }
}

/// How a link is done.
public struct LinkOptions: Sendable {
  /// Where undefined symbols are looked up, in order.
  public var providers: [any SymbolProvider]
  /// Undefined strong symbols become an error (the default) or are left at 0 and reported as
  /// warnings.
  public var allowUndefined: Bool = false
  /// The module's name in messages.
  public var moduleName: String = "module"
  /// A declaration whose string field a check reads back (OpenBSD modules: `_module`, whose
  /// `lkm_name` is at offset 8), giving ``LinkReport/declaredName``.
  public var declaration: (symbol: String, pointerOffset: Int)?
  /// Advice for an undefined symbol (`did you mean 'X'?`), appended to its message.
  public var suggest: (@Sendable (String) -> String?)?
  /// The entry point: an undefined reference from the start, so that an archive member
  /// defining it is pulled in (as ld's -e does).
  public var entry: String?
  /// How the link calls an IFUNC resolver `void *r(void)` at an address in the module: nil
  /// calls it directly (lkmrun). A kernel passes a guarded call, so that a resolver that faults
  /// fails the link instead of killing the process; a fuzzer passes one that returns nil, so
  /// that no module code runs at all. A nil result fails the link (``LinkError/Code/unsupportedFeature``).
  public var callResolver: (@Sendable (UInt64) -> UInt64?)?
  /// The reserved ranges module memory must lie in; empty (the default) for anywhere.
  ///
  /// When not empty, every mapping the link makes for the module (its image, with its stubs,
  /// thunks, GOT and copies of host objects) is mapped inside one of the regions, and goes
  /// back to it, reserved again, when the module is dropped; a check plans its address inside
  /// them too. Placement constraints (±2 GiB reach of the data a module references
  /// PC-relatively, below 2 GiB for 32-bit absolute references, near the functions it calls)
  /// are intersected with the regions: when no region can hold the module, the link fails with
  /// ``LinkError/Code/unplaceable`` saying why.
  public var regions: [ModuleRegion] = []

  public init(providers: [any SymbolProvider]) {
    self.providers = providers
  }
}

/// Links relocatable objects into the current process.
///
/// The steps, each its own function: gather objects and resolve symbols (pulling archive
/// members as a linker does), scan relocations (GOT slots, stub candidates, placement
/// constraints), lay out three page-aligned segments, place them in the address space, apply
/// relocations, resolve IFUNCs, and protect. The result is a ``LoadedModule`` whose
/// constructors have not run yet.
public struct ModuleLinker {
  public var options: LinkOptions

  public init(options: LinkOptions) {
    self.options = options
  }

  /// Links `inputs` into one module.
  ///
  /// - Throws: ``LinkError`` with every problem of the first failing step.
  public func link(_ inputs: [LinkInput]) throws(LinkError) -> LoadedModule {
    var session = LinkSession(options: options)
    // A load always returns a module or throws.
    return try session.run(inputs)!
  }

  /// Links `inputs` completely into scratch memory at a planned address, without running
  /// anything, and reports every problem: what `modload -n` asks.
  ///
  /// Malformed input ends the check at once (it is the only problem reported then).
  public func check(_ inputs: [LinkInput]) -> LinkReport {
    var session = LinkSession(options: options)
    session.checking = true
    var report = LinkReport()
    do {
      _ = try session.run(inputs)
      report.problems = session.problems
    } catch {
      report.problems = session.problems.isEmpty ? error.all : session.problems
    }
    if let entry = options.entry, session.entryAddress == nil || session.entryAddress == 0,
      session.globalID(entry).map({ session.globals[$0].kind == .undefined }) ?? true,
      !report.problems.contains(where: { $0.code == .malformedInput })
    {
      report.problems.append(LinkError(.noEntryPoint, "entry point '\(entry)' is not defined"))
    }
    report.warnings = session.warnings
    report.placements = session.plannedPlacements
    report.statistics = session.statistics
    report.entryAddress = session.entryAddress
    report.declaredName = session.declaredName
    report.exports = session.globals.filter { $0.kind != .undefined }.map(\.name)
    report.imports = session.globals.filter { $0.kind == .undefined && $0.referenced && $0.external != nil }
      .map { ($0.name, $0.providerName ?? "") }
    return report
  }
}

/// What a check found: every problem, warnings, and the plan.
public struct LinkReport: Sendable {
  /// Everything that stops the module from loading, one line each.
  public var problems: [LinkError] = []
  /// What does not stop it (undefined weak symbols).
  public var warnings: [String] = []
  /// Where each section would go.
  public var placements: [SectionPlacement] = []
  public var statistics = LinkStatistics()
  public var entryAddress: UInt64?
  /// The string the declaration names (an OpenBSD module's name), when asked for.
  public var declaredName: String?
  /// The module's global definitions.
  public var exports: [String] = []
  /// The undefined globals a provider gave: name, provider name.
  public var imports: [(name: String, provider: String)] = []
  /// Whether the module would load.
  public var isLinkable: Bool { problems.isEmpty }
  public init() {}
}

/// What the kernel side asks of an input before or besides a link, answered from the one
/// parse (so that a module sent by modload is parsed once on its way to running).
extension LinkInput {
  /// An object or archive in bytes already in memory (a request's), without copying them.
  public static func parse(inPlace bytes: FileBytes) throws(LinkError) -> LinkInput {
    do {
      return try parse(bytes)
    } catch {
      throw LinkError(error)
    }
  }

  /// Whether the input defines the global `name`: an object's defined global symbol, or a name
  /// in an archive's index (modload's entry lookup).
  public func defines(_ name: String) -> Bool {
    let wanted = OwnedName(name)
    switch self {
    case .object(let object):
      for i in object.symbols.indices.dropFirst() {
        let symbol = object.symbols[i]
        if !symbol.isLocal && !symbol.isUndefined && object.symbolNameBytes(i).equals(wanted.name) {
          return true
        }
      }
      return false
    case .archive(let archive):
      return archive.firstMember(defining: wanted.name, where: { _ in true }) != nil
    }
  }

  /// The size of the input's symbol table as OpenBSD's `sym_symsize` counts it (24 bytes a
  /// symbol; 0 for an archive).
  public var symbolTableSize: Int {
    if case .object(let object) = self { return object.symbols.count * 24 }
    return 0
  }

  /// The parsed object, for an object (`modload -o` writes a copy with section addresses).
  public var object: ObjectFile? {
    if case .object(let object) = self { return object }
    return nil
  }
}
