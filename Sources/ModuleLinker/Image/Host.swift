// The host side of module code: dlopen/dlsym for host symbols, calls into module code through
// raw addresses, and the unwinder's frame registry. Every address called here was computed by
// the linker from a symbol of a module it mapped.
internal import CHostSymbols
import ELFObject
internal import Glibc
import LKMBase
import Synchronization

/// A resolved symbol from a provider.
public struct ProvidedSymbol: Sendable {
  public var address: UInt64
  /// Whether the symbol is code (so that calls may go through a stub). Data must be reached
  /// directly.
  public var isFunction: Bool
  /// `st_size`, when the provider knows it (for `R_X86_64_SIZE*`).
  public var size: UInt64?
  /// Whether the object can never change (it may then be copied next to a module that cannot
  /// reach it, as ld's copy relocations do).
  public var isReadOnly: Bool
  /// For a thread-local variable in static TLS: its offset from the thread pointer, the same in
  /// every thread (``address`` is the looking-up thread's).
  public var threadPointerOffset: Int64?
  public init(
    address: UInt64, isFunction: Bool, size: UInt64? = nil, isReadOnly: Bool = false,
    threadPointerOffset: Int64? = nil
  ) {
    self.address = address
    self.isFunction = isFunction
    self.size = size
    self.isReadOnly = isReadOnly
    self.threadPointerOffset = threadPointerOffset
  }
}

/// A source of definitions for a module's undefined symbols, consulted in order.
public protocol SymbolProvider: AnyObject, Sendable {
  /// The provider's name for messages (`host`, `kernel`, a module name).
  var providerName: String { get }
  /// The symbol's address, or nil if this provider does not define it.
  func lookup(_ name: String) -> ProvidedSymbol?
  /// What a cache of linked images keys this provider by (the default is its name): a cached
  /// image is used only with providers of the same identities, and every symbol it takes from
  /// them is looked up again and must be of the same kind and size.
  var cacheIdentity: String { get }
}

extension SymbolProvider {
  public var cacheIdentity: String { providerName }
}

/// The host process's C libraries, searched with `dlsym`: libc, libm, libpthread, libdl, and
/// any library named with `-l`.
public final class HostSymbolProvider: SymbolProvider, @unchecked Sendable {
  public let providerName = "host"
  /// Each library's handle, in search order; nil for one opened on first need (and, once
  /// tried, for one that cannot be: then it is skipped).
  private let handles: Mutex<[UInt]>
  /// Whether each library has been tried (the ones opened on demand start untried).
  private let tried: Mutex<[Bool]>
  /// The libraries searched, in order, for `-v`.
  public private(set) var libraries: [String] = []

  /// libpthread and libdl are opened only when a lookup gets past libc and libm: since glibc
  /// 2.34 their symbols are libc's and they are stubs, which a process need not load (two
  /// dlopen calls of a small run's start-up).
  static let onDemand = ["libpthread.so.0", "libdl.so.2"]

  /// Opens the default libraries and each of `libraries` (names as for `-l`: `m`, `stdc++`).
  ///
  /// - Throws: a message naming a library that cannot be opened.
  public init(libraries extra: [String] = []) throws(LinkError) {
    var handles: [UnsafeMutableRawPointer?] = unsafe []
    var tried: [Bool] = []
    for name in ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2"] {
      if HostSymbolProvider.onDemand.contains(name) {
        unsafe handles.append(nil)
        tried.append(false)
        libraries.append(name)
      } else if let h = unsafe dlopen(name, RTLD_NOW | RTLD_GLOBAL) {
        unsafe handles.append(h)
        tried.append(true)
        libraries.append(name)
      }
    }
    for name in extra {
      let candidates =
        name.contains("/")
        ? [name] : ["lib\(name).so"] + (0..<12).reversed().map { "lib\(name).so.\($0)" }
      var opened = false
      var lastError = ""
      for candidate in candidates {
        if let h = unsafe dlopen(candidate, RTLD_NOW | RTLD_GLOBAL) {
          unsafe handles.append(h)
          tried.append(true)
          libraries.append(candidate)
          opened = true
          break
        }
        lastError = unsafe dlerror().map { unsafe String(cString: $0) } ?? ""
      }
      if !opened {
        throw LinkError(
          .libraryUnavailable, "cannot open library '-l\(name)'",
          cause: DynamicLoaderError(lastError))
      }
    }
    self.handles = unsafe Mutex(handles.map { UInt(bitPattern: $0) })
    self.tried = Mutex(tried)
    openedAtStart = unsafe handles.map { UInt(bitPattern: $0) }
    librarySet = HostSymbolProvider.number(libraries)
  }

  /// The libraries, each with its GNU build ID (or, for one without, its file's device, inode,
  /// size and modification time): a library rebuilt in place changes it. Found on first use
  /// (a link without a cache never asks), for the libraries as they were opened at the start.
  public var cacheIdentity: String {
    identityOnce.withLock { known in
      if let known { return known }
      let text = unsafe HostSymbolProvider.identity(
        libraries, openedAtStart.map { unsafe UnsafeMutableRawPointer(bitPattern: $0) })
      known = text
      return text
    }
  }

  /// The handles as ``init(libraries:)`` left them (nil for a library opened on demand).
  private let openedAtStart: [UInt]
  private let identityOnce = Mutex<String?>(nil)

  /// Each library's identity, found once for the process (libraries are never closed).
  private static let identities = Mutex<[(name: String, identity: String)]>([])

  static func identity(_ libraries: [String], _ handles: [UnsafeMutableRawPointer?]) -> String {
    var text = "host"
    // By index: swift format 6.3 joins `for unsafe (name, handle)` into one word.
    for k in libraries.indices {
      let name = libraries[k]
      guard let handle = unsafe handles[k] else {
        text += " \(name)=on demand"  // its symbols are looked up again at every cached load
        continue
      }
      if let known = identities.withLock({ $0.first { $0.name == name }?.identity }) {
        text += known
        continue
      }
      var id = [UInt8](repeating: 0, count: 64)
      var path = [CChar](repeating: 0, count: 1024)
      let length = unsafe host_build_id_of_handle(
        handle, &id, Int32(id.count), &path, Int32(path.count))
      var added = " \(name)="
      if length > 0 {
        added += hexDigits(id[0..<Int(length)])
      } else {
        let file = String(
          decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let identity = FileIdentity.of(file) {
          added += "\(identity.device):\(identity.inode):\(identity.size):\(identity.modified)"
        }
      }
      text += added
      identities.withLock { $0.append((name, added)) }
    }
    return text
  }

  public func lookup(_ name: String) -> ProvidedSymbol? {
    // Looked up once per name for the process: the libraries never move or go (none is ever
    // closed), and a library opened later cannot take a name from one opened before.
    let set = librarySet
    let known = HostSymbolProvider.cache.withLock { cache -> ProvidedSymbol?? in
      while cache.count <= set { cache.append([:]) }  // made on the first lookup
      return cache[set][name]
    }
    if let known { return known }
    let symbol = search(name)
    HostSymbolProvider.cache.withLock { $0[set][name] = .some(symbol) }
    return symbol
  }

  /// Results of ``lookup(_:)``, by the provider's set of libraries (``librarySet``) and name.
  private static let cache = Mutex<[[String: ProvidedSymbol?]]>([])
  /// The sets of libraries providers were made with, each numbered once for the process.
  private static let librarySets = Mutex<[[String]]>([])

  /// This provider's set of libraries, numbered for the lookup cache.
  private var librarySet = 0

  /// The number of a set of libraries, made once for the process (a few sets at most: a list).
  private static func number(_ libraries: [String]) -> Int {
    librarySets.withLock { sets in
      if let known = sets.firstIndex(of: libraries) { return known }
      sets.append(libraries)
      return sets.count - 1
    }
  }

  /// The handle of library `k`, opening it if it is opened on demand and was never tried.
  private func handle(_ k: Int) -> UnsafeMutableRawPointer? {
    let known = handles.withLock { $0[k] }
    if known != 0 { return unsafe UnsafeMutableRawPointer(bitPattern: known) }
    guard !tried.withLock({ $0[k] }) else { return nil }
    let opened = unsafe UInt(bitPattern: dlopen(libraries[k], RTLD_NOW | RTLD_GLOBAL))
    handles.withLock { $0[k] = opened }
    tried.withLock { $0[k] = true }
    return unsafe UnsafeMutableRawPointer(bitPattern: opened)
  }

  private func search(_ full: String) -> ProvidedSymbol? {
    // A reference with a version (`realpath@GLIBC_2.2.5`, from .symver) is that version's
    // definition (dlvsym); the facts below are looked up under the bare name.
    var name = full
    var version: String?
    let utf8 = Array(full.utf8)
    if let at = utf8.firstIndex(of: 0x40), at > 0 {
      name = String(decoding: utf8[..<at], as: UTF8.self)
      version = String(decoding: utf8[(at + 1)...].drop { $0 == 0x40 }, as: UTF8.self)
    }
    for k in libraries.indices {
      guard let handle = unsafe handle(k) else { continue }
      let found =
        unsafe version.map { unsafe host_versioned_symbol(handle, name, $0) } ?? dlsym(handle, name)
      if var p = unsafe found {
        var writable: Int32 = 1
        var executable: Int32 = 0
        // Data is used through the definition ld.so bound every reference to (the first in the
        // global scope): the executable's copy when it has one (a copy relocation), which the
        // library uses too.
        let first =
          unsafe version.map { unsafe host_versioned_symbol(nil, name, $0) }
          ?? (unsafe HostSymbolProvider.processSymbol(name))
        if let first = unsafe first, unsafe first != p,
          unsafe host_segment_permissions(p, &writable, &executable) == 0 || executable == 0
        {
          unsafe p = unsafe first
        }
        let address = UInt64(UInt(bitPattern: p))
        // A thread-local variable: dlsym gave this thread's; its offset is every thread's.
        if let offset = StaticTLS.hostOffset(address) {
          return ProvidedSymbol(address: address, isFunction: false, threadPointerOffset: offset)
        }
        var size: UInt = 0
        var type: Int32 = 0
        // The defining object's hash table first; dladdr1 (a scan of every symbol) when that
        // does not find the symbol at this address.
        if unsafe host_symbol_facts(p, name, &size, &type, &writable, &executable) != 0 {
          return ProvidedSymbol(
            address: address, isFunction: type == 2 || type == 10, size: UInt64(size),
            isReadOnly: executable == 0 && writable == 0)
        }
        writable = 1
        executable = 0
        let known = unsafe host_segment_permissions(p, &writable, &executable) != 0
        if unsafe host_symbol_info(p, &size, &type) != 0 {
          return ProvidedSymbol(
            address: address, isFunction: type == 2 || type == 10, size: UInt64(size),
            isReadOnly: known && executable == 0 && writable == 0)
        }
        return ProvidedSymbol(address: address, isFunction: known && executable != 0)
      }
    }
    return nil
  }

  /// The address of a symbol of the running process (`RTLD_DEFAULT`).
  static func processSymbol(_ name: String) -> UnsafeMutableRawPointer? {
    unsafe dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
  }
}

/// Calls into module code.
enum ModuleCall {
  /// Calls `void f(void)` at `address`.
  static func void(_ address: UInt64) {
    let f = unsafe unsafeBitCast(UInt(address), to: (@convention(c) () -> Void).self)
    f()
  }

  /// Calls an IFUNC resolver `void *r(void)` at `address`.
  static func resolver(_ address: UInt64) -> UInt64 {
    let f = unsafe unsafeBitCast(UInt(address), to: (@convention(c) () -> UInt).self)
    return UInt64(f())
  }

  /// Calls `int main(int, char **)` at `address` with `arguments` (argv[0] first).
  static func main(_ address: UInt64, arguments: [String]) -> Int32 {
    let f = unsafe unsafeBitCast(
      UInt(address),
      to: (@convention(c) (Int32, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32).self
    )
    var argv: [UnsafeMutablePointer<CChar>?] = unsafe arguments.map { unsafe strdup($0) }
    unsafe argv.append(nil)
    defer { for k in unsafe argv.indices { unsafe free(argv[k]) } }
    return unsafe argv.withUnsafeMutableBufferPointer {
      unsafe f(Int32(arguments.count), $0.baseAddress!)
    }
  }

  /// Calls `fn(arg)` for a `void (*)(void *)` registered with `__cxa_atexit`.
  static func withArgument(_ address: UInt64, _ argument: UInt64) {
    let f = unsafe unsafeBitCast(UInt(address), to: (@convention(c) (UInt) -> Void).self)
    f(UInt(argument))
  }
}

/// libgcc's frame registry, so that exceptions and backtraces pass through module frames.
enum FrameRegistry {
  typealias Function = @convention(c) (UnsafeRawPointer) -> Void
  static let register: Function? = unsafe lookup("__register_frame")
  static let deregister: Function? = unsafe lookup("__deregister_frame")

  private static func lookup(_ name: String) -> Function? {
    var p = unsafe HostSymbolProvider.processSymbol(name)
    if unsafe p == nil, let gcc = unsafe dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_GLOBAL) {
      unsafe p = unsafe dlsym(gcc, name)
    }
    return unsafe p.map { unsafe unsafeBitCast($0, to: Function.self) }
  }

  /// Registers the `.eh_frame` data at `address` (ending in a zero terminator).
  static func add(_ address: UInt64) -> Bool {
    guard let register = unsafe register, let p = unsafe UnsafeRawPointer(bitPattern: UInt(address))
    else { return false }
    unsafe register(p)
    return true
  }

  static func remove(_ address: UInt64) {
    guard let deregister = unsafe deregister,
      let p = unsafe UnsafeRawPointer(bitPattern: UInt(address))
    else { return }
    unsafe deregister(p)
  }
}

/// Flushes every stdio stream (as `exit` would).
public func flushStandardStreams() { fflush(nil) }

/// The GNU build ID of the loaded object holding `address` into `out`: its length, 0 without
/// one, -1 when no object holds the address.
func host_build_id_at(_ address: UInt64, _ out: inout [UInt8]) -> Int {
  guard let p = unsafe UnsafeRawPointer(bitPattern: UInt(address)) else { return -1 }
  let capacity = Int32(out.count)
  return unsafe Int(
    out.withUnsafeMutableBufferPointer { unsafe host_build_id(p, $0.baseAddress!, capacity) })
}
