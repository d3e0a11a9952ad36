public import LKMInterface
// The kernel's Swift code calling CLKM's device, file system and exec layers. Handles for mounts
// and vnodes are opaque here and checked by CLKM against its own lists on every call; buffers
// are Swift arrays the C side reads or fills within their counts.
internal import CLKM
internal import Glibc

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

/// A mount of the C mount table.
struct MountHandle: @unchecked Sendable {
  let pointer: UnsafeMutableRawPointer
}

/// A vnode handed out by a mount's file system.
struct VnodeHandle {
  let pointer: UnsafeMutableRawPointer
}

/// What VOP_GETATTR says; nil for VNOVAL.
struct VnodeAttributes: Sendable, Equatable {
  /// `enum vtype`: 1 VREG, 2 VDIR, 3 VBLK, 4 VCHR, 5 VLNK.
  var type: Int32
  var mode: Int64?
  var links: Int64?
  var size: Int64?
  var fileID: Int64?
  var modified: Int64?
}

extension Bridge {
  static func setProcess(pid: Int32, uid: UInt32, command: String) {
    clkm_set_process(pid, uid, command)
  }

  static func forgetModule(_ id: Int32) { clkm_forget_module(id) }

  // MARK: Device switches

  static func switchSize(block: Bool) -> Int32 { clkm_ndevsw(block ? 1 : 0) }

  /// Whether `major` holds the lkmenodev placeholder, and which module installed it.
  static func switchEntry(block: Bool, major: Int32) -> (free: Bool, owner: Int32)? {
    var owner: Int32 = -1
    let state = clkm_devsw_state(block ? 1 : 0, major, &owner)
    return state < 0 ? nil : (state == 1, owner)
  }

  static func deviceRead(block: Bool, device: Int32, offset: UInt64, count: Int) -> (
    [UInt8], Outcome
  ) {
    var buffer = [UInt8](repeating: 0, count: max(count, 1))
    var done = 0
    var o = clkm_outcome_t()
    buffer.withUnsafeMutableBytes { raw in
      clkm_dev_read(block ? 1 : 0, device, offset, raw.baseAddress!, count, &done, &o)
    }
    return (Array(buffer[0..<min(done, count)]), Outcome(o))
  }

  static func deviceWrite(block: Bool, device: Int32, offset: UInt64, bytes: [UInt8]) -> (
    Int, Outcome
  ) {
    var done = 0
    var o = clkm_outcome_t()
    let source = bytes.isEmpty ? [0] : bytes
    source.withUnsafeBytes { raw in
      clkm_dev_write(block ? 1 : 0, device, offset, raw.baseAddress!, bytes.count, &done, &o)
    }
    return (done, Outcome(o))
  }

  /// d_ioctl with `data` (at least 8 bytes), returned as the driver left it.
  static func deviceIoctl(block: Bool, device: Int32, command: UInt64, data: [UInt8]) -> (
    [UInt8], Outcome
  ) {
    var buffer = data + [UInt8](repeating: 0, count: max(0, 8 - data.count))
    var o = clkm_outcome_t()
    buffer.withUnsafeMutableBytes { raw in
      clkm_dev_ioctl(block ? 1 : 0, device, command, raw.baseAddress!, &o)
    }
    return (buffer, Outcome(o))
  }

  // MARK: File systems

  static var fileSystemTypes: [FileSystemType] {
    (0..<clkm_vfs_count()).compactMap { i in
      var info = clkm_vfs_info_t()
      guard clkm_vfs_at(i, &info) == 0 else { return nil }
      var raw = info.name
      let name = withUnsafeBytes(of: &raw) {
        String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      return FileSystemType(
        name: name, typeNumber: info.typenum, mounts: info.refcount, module: info.module)
    }
  }

  /// The mount table, oldest first: handle, path, type.
  static var mounts: [(handle: MountHandle, path: String, type: String)] {
    (0..<clkm_mount_count()).compactMap { i in
      guard let p = clkm_mount_at(i) else { return nil }
      return (
        MountHandle(pointer: p), String(cString: clkm_mount_path(p)),
        String(cString: clkm_mount_fstype(p))
      )
    }.reversed()
  }

  static func mount(type: String, path: String) -> (MountHandle?, Outcome) {
    var o = clkm_outcome_t()
    let p = clkm_vfs_mount(type, path, &o)
    return (p.map { MountHandle(pointer: $0) }, Outcome(o))
  }

  static func unmount(_ mount: MountHandle) -> Outcome {
    var o = clkm_outcome_t()
    clkm_vfs_unmount(mount.pointer, &o)
    return Outcome(o)
  }

  static func root(_ mount: MountHandle) -> (VnodeHandle?, Outcome) {
    var o = clkm_outcome_t()
    let p = clkm_vfs_root(mount.pointer, &o)
    return (p.map { VnodeHandle(pointer: $0) }, Outcome(o))
  }

  static func lookup(_ mount: MountHandle, _ directory: VnodeHandle, _ name: String, create: Bool)
    -> (VnodeHandle?, Outcome)
  {
    var o = clkm_outcome_t()
    let p = clkm_vop_lookup(mount.pointer, directory.pointer, name, create ? 1 : 0, &o)
    return (p.map { VnodeHandle(pointer: $0) }, Outcome(o))
  }

  /// `enum vtype` of a vnode (8, VBAD, if it is not one of the mount's).
  static func vnodeType(_ mount: MountHandle, _ vnode: VnodeHandle) -> Int32 {
    clkm_vnode_type(mount.pointer, vnode.pointer)
  }

  static func attributes(_ mount: MountHandle, _ vnode: VnodeHandle) -> (VnodeAttributes, Outcome) {
    var a = clkm_attr_t()
    var o = clkm_outcome_t()
    clkm_vop_getattr(mount.pointer, vnode.pointer, &a, &o)
    func known(_ v: Int64) -> Int64? { v < 0 ? nil : v }
    let attributes = VnodeAttributes(
      type: a.type, mode: known(a.mode), links: known(a.nlink), size: known(a.size),
      fileID: known(a.fileid), modified: known(a.mtime))
    return (attributes, Outcome(o))
  }

  static func read(_ mount: MountHandle, _ vnode: VnodeHandle, offset: UInt64, count: Int) -> (
    [UInt8], Outcome
  ) {
    var buffer = [UInt8](repeating: 0, count: max(count, 1))
    var o = clkm_outcome_t()
    let done = buffer.withUnsafeMutableBytes { raw in
      clkm_vop_read(mount.pointer, vnode.pointer, offset, raw.baseAddress!, count, &o)
    }
    return (Array(buffer[0..<min(done, count)]), Outcome(o))
  }

  static func write(_ mount: MountHandle, _ vnode: VnodeHandle, offset: UInt64, bytes: [UInt8]) -> (
    Int, Outcome
  ) {
    var o = clkm_outcome_t()
    let source = bytes.isEmpty ? [0] : bytes
    let done = source.withUnsafeBytes { raw in
      clkm_vop_write(mount.pointer, vnode.pointer, offset, raw.baseAddress!, bytes.count, &o)
    }
    return (done, Outcome(o))
  }

  /// One VOP_READDIR: the records' bytes, the offset to resume at, and the end flag.
  static func readDirectory(_ mount: MountHandle, _ vnode: VnodeHandle, offset: Int64, count: Int)
    -> (bytes: [UInt8], next: Int64, end: Bool, Outcome)
  {
    var buffer = [UInt8](repeating: 0, count: count)
    var next = offset
    var eof: Int32 = 0
    var o = clkm_outcome_t()
    let done = buffer.withUnsafeMutableBytes { raw in
      clkm_vop_readdir(mount.pointer, vnode.pointer, &next, raw.baseAddress!, count, &eof, &o)
    }
    return (Array(buffer[0..<min(done, count)]), next, eof != 0, Outcome(o))
  }

  // MARK: Execution switch

  static var execSwitchSize: Int32 { clkm_nexecs() }

  static func execEntry(_ slot: Int32) -> (free: Bool, owner: Int32)? {
    var owner: Int32 = -1
    let state = clkm_execsw_state(slot, &owner)
    return state < 0 ? nil : (state == 1, owner)
  }

  /// Offers a file to the execution switch and runs it: the exit status.
  static func exec(name: String, image: [UInt8], arguments: [String]) -> (Int32, Outcome) {
    var status: Int32 = 0
    var o = clkm_outcome_t()
    let arguments = arguments.isEmpty ? [name] : arguments
    let copies = arguments.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let argv: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) }
    let source = image.isEmpty ? [0] : image
    source.withUnsafeBytes { raw in
      argv.withUnsafeBufferPointer { list in
        list.baseAddress!.withMemoryRebound(
          to: UnsafePointer<CChar>.self, capacity: max(list.count, 1)
        ) { p in
          clkm_exec(name, raw.baseAddress!, image.count, Int32(arguments.count), p, &status, &o)
        }
      }
    }
    return (status, Outcome(o))
  }
}
