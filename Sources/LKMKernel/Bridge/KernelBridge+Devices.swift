// The kernel's Swift code calling CLKM's device switches, file system types and exec layer (the
// files and devices themselves are reached through system calls); buffers are Swift arrays the C
// side reads or fills within their counts.
internal import CLKM
internal import Glibc
public import LKMInterface

/// What a call into module code came to: an errno, or a fault, and whose code ran.
struct Outcome {
  var error: Int32
  var fault: ModuleFault?
  /// The module whose table entry or file system was called, -1 for the kernel.
  var module: Int32

  init(_ o: clkm_outcome_t) {
    error = o.error
    module = o.module
    fault = o.faulted != 0 ? Bridge.faultValue(o.fault) : nil
  }
}

extension Bridge {
  static func forgetModule(_ id: Int32) { clkm_forget_module(id) }

  // MARK: Device switches

  static func switchSize(block: Bool) -> Int32 { clkm_ndevsw(block ? 1 : 0) }

  /// Whether `major` holds the lkmenodev placeholder, and which module installed it.
  static func switchEntry(block: Bool, major: Int32) -> (free: Bool, owner: Int32)? {
    var owner: Int32 = -1
    let state = unsafe clkm_devsw_state(block ? 1 : 0, major, &owner)
    return state < 0 ? nil : (state == 1, owner)
  }

  // MARK: File systems

  static var fileSystemTypes: [FileSystemType] {
    (0..<clkm_vfs_count()).compactMap { i in
      var name = [CChar](repeating: 0, count: 17)
      var typenum: Int32 = 0
      var refcount: UInt32 = 0
      var module: Int32 = -1
      guard unsafe clkm_vfs_at(i, &name, &typenum, &refcount, &module) == 0 else { return nil }
      let text = String(
        decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      return FileSystemType(name: text, typeNumber: typenum, mounts: refcount, module: module)
    }
  }

  /// Unmounts every file system but the root (lkmd stopping).
  static func unmountAll() { clkm_vfs_unmount_all() }

  // MARK: Execution switch

  static var execSwitchSize: Int32 { clkm_nexecs() }

  static func execEntry(_ slot: Int32) -> (free: Bool, owner: Int32)? {
    var owner: Int32 = -1
    let state = unsafe clkm_execsw_state(slot, &owner)
    return state < 0 ? nil : (state == 1, owner)
  }

  /// Offers a file to the execution switch and runs it: the exit status.
  static func exec(name: String, image: [UInt8], arguments: [String]) -> (Int32, Outcome) {
    var status: Int32 = 0
    var o = clkm_outcome_t()
    let arguments = arguments.isEmpty ? [name] : arguments
    let copies = unsafe arguments.map { unsafe strdup($0) }
    defer { unsafe copies.forEach { unsafe free($0) } }
    let argv: [UnsafePointer<CChar>?] = unsafe copies.map { unsafe UnsafePointer($0) }
    let source = image.isEmpty ? [0] : image
    unsafe source.withUnsafeBytes { raw in
      unsafe argv.withUnsafeBufferPointer { list in
        unsafe list.baseAddress!.withMemoryRebound(
          to: UnsafePointer<CChar>.self, capacity: max(list.count, 1)
        ) { p in
          unsafe clkm_exec(
            name, raw.baseAddress!, image.count, Int32(arguments.count), p, &status, &o)
        }
      }
    }
    return (status, Outcome(o))
  }
}
