import ELFObject
import LKMBase

/// Where one input section was placed.
public struct SectionPlacement: Sendable {
  /// The object's name (`archive(member)` for a member).
  public var object: String
  /// The section's index in its object.
  public var index: Int
  public var name: String
  public var address: UInt64
  public var size: UInt64

  public init(object: String, index: Int, name: String, address: UInt64, size: UInt64) {
    self.object = object
    self.index = index
    self.name = name
    self.address = address
    self.size = size
  }
}

/// Where a module's thread-local variables went: its block in the static TLS reservation
/// (``StaticTLS``), at the same offset from the thread pointer in every thread.
public struct ThreadLocalPlacement: Sendable {
  /// The block's first byte as an offset from the thread pointer (negative: x86-64's TLS
  /// variant II puts static blocks below it). A variable's `T` (``FixupKind``'s local-exec
  /// value) is this plus its `D`, its offset in the block.
  public var threadPointerOffset: Int64
  /// The block's size in bytes: the `.tdata` sections (its initialization image), then the
  /// `.tbss` sections.
  public var size: Int
  /// The block's alignment: the largest of its sections'.
  public var alignment: Int
  /// Each thread-local input section, with `address` its offset in the block (`D` of its first
  /// byte), not an address. For checks against other linkers.
  public var sections: [SectionPlacement]
}

/// What a link measured, for `lkmrun -v` and benchmarks.
public struct LinkStatistics: Sendable {
  public struct Segment: Sendable {
    public var name: String
    public var address: UInt64
    public var size: Int
    public var protection: Protection
  }
  public var segments: [Segment] = []
  public var objectCount = 0
  public var stubCount = 0
  public var gotCount = 0
  /// Applied relocations by psABI name (made when asked: a dictionary of Strings is a first
  /// use of its generic metadata, about 0.1 M instructions of a short process's start-up).
  public var relocationsByType: [String: Int] {
    var byType: [String: Int] = [:]
    for (type, n) in relocationCounts {
      if let known = X86_64Relocation(rawValue: UInt32(type)) { byType[known.abiName] = n }
    }
    return byType
  }
  /// Applied relocations by psABI type number (those applied at least once).
  var relocationCounts: [(type: UInt8, count: Int)] = []
  public var relocationCount = 0
  /// Nanoseconds per phase, in order.
  public var phases: [(name: String, nanoseconds: UInt64)] = []
  /// What the cache of linked images did (nil without one).
  public var cache: CacheOutcome?
}

/// A linked module in this process's memory: relocated, protected, its `.eh_frame`
/// registered. Constructors run with ``runInitializers()``; ``unload()`` (or deinit) runs what
/// is needed and unmaps it.
///
/// It is made from a small result (its image, its constructor and finalizer lists, and the
/// tables below, made on first use from the symbols of the link), not from the link itself.
public final class LoadedModule {
  let image: MappedImage
  let tables: any ModuleSymbolTables
  /// The module's global definitions, by name (made on first use; ``address(ofExport:)``
  /// finds one without making the table).
  public private(set) lazy var exports: [String: UInt64] = tables.exports()

  /// The address of the module's global definition `name`, if it has one.
  public func address(ofExport name: String) -> UInt64? { tables.export(named: name) }
  /// What the link measured.
  public private(set) var statistics: LinkStatistics
  /// Constructor addresses, in the order they run.
  public let initializers: [UInt64]
  /// Finalizer addresses, in the order they run.
  public let finalizers: [UInt64]
  /// The registered `.eh_frame`, if any.
  let ehFrame: UInt64?
  var ehFrameRegistered = false
  let dsoHandle: UInt64
  public private(set) var initialized = false
  public private(set) var finalized = false
  /// Names of the objects linked, in order (members as `archive(member)`).
  public private(set) lazy var objectNames: [String] = tables.objectNames
  /// Where each allocated input section went: the object's name, the section's index and
  /// name, its load address and size. For checks against other linkers.
  public private(set) lazy var placements: [SectionPlacement] = tables.placements()
  /// The address each undefined global was bound to, and the provider that gave it (`host`,
  /// `linker` for `_GLOBAL_OFFSET_TABLE_`, `__dso_handle`, `__cxa_atexit` and the `atexit`
  /// thunks, `weak` for an undefined weak symbol left at 0).
  public private(set) lazy var externals: [String: (address: UInt64, provider: String)] =
    tables.externals()
  /// The address of each PLT stub by target name.
  public private(set) lazy var stubs: [String: UInt64] = tables.stubs()
  /// The address of each GOT slot by target name.
  public private(set) lazy var gotEntries: [String: UInt64] = tables.gotEntries()
  /// The GOT base (`_GLOBAL_OFFSET_TABLE_`).
  public let gotBase: UInt64
  /// Function symbols (module-local ones too) for symbolisation: address, size, name.
  /// Computed on first use: a link does not pay for names it never shows.
  public private(set) lazy var functions: [(address: UInt64, size: UInt64, name: String)] =
    tables.functions()

  /// Whether a function symbol of the module starts at `address`.
  public func isFunction(_ address: UInt64) -> Bool {
    let list = functions
    var lo = 0
    var hi = list.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if list[mid].address < address { lo = mid + 1 } else { hi = mid }
    }
    return lo < list.count && list[lo].address == address
  }

  /// Makes the module of `image` (relocated and protected) from the result of its link or of
  /// a cached load, and registers its `.eh_frame` and `__dso_handle`.
  /// The module's range of the static TLS reservation (freed with the module).
  let threadLocalBlock: TLSBlock?
  /// Where the module's thread-local variables are, if it has any (a link with a
  /// ``LinkOptions/threadLocalStorage`` reservation).
  public let threadLocalPlacement: ThreadLocalPlacement?

  init(image: consuming MappedImage, result: ModuleResult) {
    self.threadLocalBlock = result.threadLocalBlock
    self.threadLocalPlacement = result.threadLocalPlacement
    self.tables = result.tables
    self.statistics = result.statistics
    self.initializers = result.initializers
    self.finalizers = result.finalizers
    self.gotBase = result.gotBase
    self.dsoHandle = result.dsoHandle
    self.ehFrame = result.ehFrame
    image.allowReuse()
    self.image = image
    if let ehFrame {
      ehFrameRegistered = FrameRegistry.add(ehFrame)
    }
    AtExitRegistry.open(dso: dsoHandle)
  }

  deinit {
    if initialized && !finalized { runFinalizers() }
    AtExitRegistry.finalize(dso: dsoHandle)
    if ehFrameRegistered, let ehFrame { FrameRegistry.remove(ehFrame) }
  }

  /// The address of the module's `.eh_frame` (registered with the unwinder), if it has one:
  /// for call traces that unwind through its code.
  public var ehFrameAddress: UInt64? { ehFrame }

  /// The image's first address.
  public var baseAddress: UInt64 { image.baseAddress }
  /// The image's size in bytes (whole pages).
  public var size: Int { image.byteCount }

  /// Runs the constructors, once.
  public func runInitializers() {
    guard !initialized else { return }
    initialized = true
    for address in initializers { ModuleCall.void(address) }
  }

  /// Runs the module's `atexit`/`__cxa_atexit` handlers (last registered first), then its
  /// finalizers, once: the order `exit` gives an executable's.
  public func runFinalizers() {
    guard initialized && !finalized else { return }
    finalized = true
    AtExitRegistry.finalize(dso: dsoHandle)
    AtExitRegistry.open(dso: dsoHandle)
    for address in finalizers { ModuleCall.void(address) }
  }

  /// Calls `int main(int argc, char **argv)` (or another function of that type) by name.
  ///
  /// - Returns: nil if the module does not define `name`.
  public func callMain(_ name: String, arguments: [String]) -> Int32? {
    guard let address = address(ofExport: name) else { return nil }
    return ModuleCall.main(address, arguments: arguments)
  }

  /// The address of a data object defined in the module (a file-local one too), by name.
  public func objectAddress(named name: String) -> UInt64? { tables.dataObject(named: name) }

  /// Whether `address` lies in the module's image.
  public func contains(_ address: UInt64) -> Bool {
    address >= baseAddress && address < baseAddress + UInt64(size)
  }

  /// `function+0xoff` for an address in the module, if a function covers it.
  public func symbolize(_ address: UInt64) -> String? {
    var best: (UInt64, UInt64, String)?
    // Sizes come from the object: compare the distance, which cannot overflow.
    for f in functions where f.address <= address {
      if address - f.address < max(f.size, 1) { best = f }
    }
    guard let best else { return nil }
    let delta = address - best.0
    return delta == 0 ? best.2 : "\(best.2)+\(hex(delta))"
  }

  /// Reads `count` bytes at `address` in the module (for tests and dumps).
  public func bytes(at address: UInt64, count: Int) -> [UInt8] {
    let offset = Int(address - baseAddress)
    return (0..<count).map { image.loadLittleEndian(UInt8.self, at: offset + $0) }
  }

  /// Loads a little-endian integer at `address` in the module.
  public func load<T: FixedWidthInteger>(_: T.Type, at address: UInt64) -> T {
    image.loadLittleEndian(T.self, at: Int(address - baseAddress))
  }
}
