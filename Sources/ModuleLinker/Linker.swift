public import ELFObject

/// An input to a link: an object, or an archive searched for members.
public enum LinkInput: Sendable {
  case object(ObjectFile)
  case archive(Archive)

  /// Reads the file at `path`, as an archive if it starts with the ar magic.
  public static func read(_ path: String) throws(LinkError) -> LinkInput {
    do {
      let bytes = try FileBytes(contentsOf: path)
      if Archive.isArchive(bytes) { return .archive(try Archive(bytes: bytes)) }
      return .object(try ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: path))
    } catch {
      throw LinkError(error)
    }
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
  /// The entry point: an undefined reference from the start, so that an archive member
  /// defining it is pulled in (as ld's -e does).
  public var entry: String?

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
    return try session.run(inputs)
  }
}
