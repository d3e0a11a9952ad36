// A linked module as debuggers, profilers and symbolizers see it: each of its objects as an
// in-memory ELF whose allocated sections carry their load addresses (registered with gdb
// through the JIT interface), its functions for perf's map, and source lines from its DWARF.
internal import CDebugInfo
import ELFObject
public import ModuleLinker

/// The objects of one linked module, ready for a debugger.
///
/// Made from the module and the inputs it was linked from: every object (archive members the
/// link took included) is copied with `sh_addr` of each section it placed set to the load
/// address, as `modload -o` writes it, so that gdb reads its symbols, DWARF and `.eh_frame` as
/// from a file and relocates them itself. The copies live as long as this value; ``register()``
/// hands them to a debugger, and they are unregistered when it goes (or ``unregister()``).
public final class ModuleDebugInfo: @unchecked Sendable {
  /// One object of the module.
  @safe struct Object {
    let name: String
    let entry: OpaquePointer
    /// The object's placed sections: [address, address + size).
    let ranges: [Range<UInt64>]
    let hasLines: Bool
  }

  let objects: [Object]
  /// Functions of the module (module-local ones too): address, size, name.
  public let functions: [(address: UInt64, size: UInt64, name: String)]
  /// How many bytes the copies take.
  public let byteCount: Int
  private var registered = false

  /// The module's objects with their sections' load addresses. Objects the link did not use
  /// (archive members it did not take) are left out.
  public init(module: LoadedModule, inputs: [LinkInput]) {
    var byObject: [String: [SectionPlacement]] = [:]
    for p in module.placements { byObject[p.object, default: []].append(p) }
    var candidates: [ObjectFile] = []
    for input in inputs {
      switch input {
      case .object(let object):
        if byObject[object.name] != nil { candidates.append(object) }
      case .archive(let archive):
        for i in archive.members.indices
        where byObject["\(archive.name)(\(archive.memberName(i)))"] != nil {
          if let object = try? archive.object(at: i) { candidates.append(object) }
        }
      }
    }
    var objects: [Object] = []
    var total = 0
    for object in candidates {
      let placements = byObject[object.name] ?? []
      var addresses: [Int: UInt64] = [:]
      for p in placements { addresses[p.index] = p.address }
      let image = object.withSectionAddresses(addresses)
      guard let entry = unsafe cdi_jit_new(UInt64(image.count)) else { continue }
      unsafe image.withUnsafeBytes { raw in
        unsafe cdi_jit_bytes(entry).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
      }
      let lines =
        unsafe image.withUnsafeBytes { unsafe cdi_has_line_info($0.baseAddress!, UInt64($0.count)) }
        == 1
      unsafe objects.append(
        Object(
          name: object.name, entry: entry,
          ranges: placements.filter { $0.size > 0 }.map { $0.address..<($0.address + $0.size) },
          hasLines: lines))
      total += image.count
    }
    self.objects = objects
    self.byteCount = total
    self.functions = module.functions
  }

  deinit {
    for object in objects { unsafe cdi_jit_free(object.entry) }
  }

  /// Registers every object with a debugger (GDB's JIT interface): a gdb attached now or later
  /// sees the module's symbols, lines and frames; pending breakpoints resolve.
  public func register() {
    guard !registered else { return }
    registered = true
    for object in objects { unsafe cdi_jit_register(object.entry) }
  }

  /// How many objects this module has registered (0 before ``register()``).
  public var registeredCount: Int { registered ? objects.count : 0 }

  /// Whether any object of the module has line information (DWARF `.debug_line`).
  public var hasLineInformation: Bool { objects.contains { $0.hasLines } }

  /// Opens the library that reads source lines (libdw, otherwise opened on the first
  /// ``sourceLine(of:)``): a process that reads lines under a fault guard or a seccomp filter
  /// calls this beforehand, so that no library is ever loaded there. False when it cannot be.
  @discardableResult
  public static func loadLineReader() -> Bool { cdi_load_line_reader() == 0 }

  /// The source line of `address` (`counter.c`, 21), from the DWARF of the object whose
  /// section holds it; nil without one.
  ///
  /// The DWARF is the module author's input: a caller that must survive a malformed one runs
  /// this under a fault guard.
  public func sourceLine(of address: UInt64) -> (file: String, line: Int)? {
    for object in objects
    where object.hasLines && object.ranges.contains(where: { $0.contains(address) }) {
      var file = [CChar](repeating: 0, count: 256)
      var line: Int32 = 0
      let bytes = unsafe cdi_jit_bytes(object.entry)
      let found = unsafe cdi_source_line(
        bytes, cdi_jit_size(object.entry), address, &file, file.count, &line)
      if found == 1 {
        let name = String(
          decoding: file.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (name, Int(line))
      }
    }
    return nil
  }

  /// Lines of perf's map for the module's functions: `START SIZE NAME` (hexadecimal, no `0x`),
  /// with `suffix` after each name (` [module]`).
  public func perfMapLines(suffix: String = "") -> [String] {
    functions.map { f in
      String(f.address, radix: 16) + " " + String(max(f.size, 1), radix: 16) + " " + f.name + suffix
    }
  }

  /// How many objects are registered with a debugger in this process, all modules together.
  public static var registeredInProcess: Int { Int(cdi_jit_count()) }

  /// Whether a debugger traces this process.
  public static var isTraced: Bool { cdi_traced() != 0 }
}
