public import LKMInterface
import ModuleLinker

/// What a path names in the kernel's namespace.
enum Resolved {
  /// `/`, or a directory on the way to a mount point: the kernel's own, read-only.
  case kernelDirectory([String])
  /// `/dev`
  case devices
  case device(String, DeviceNode)
  /// A file of a mounted file system.
  case vnode(MountHandle, VnodeHandle, name: String)
}

extension Kernel {
  /// The largest transfer one request makes (a read without a count stops here).
  public static let transferLimit = 1 << 20

  // MARK: Requests on behalf of a client

  /// Starts a request: the time, the client as the current process, an empty uprintf buffer.
  func begin(_ credentials: Credentials) {
    tick()
    Bridge.setProcess(pid: credentials.pid, uid: credentials.uid, command: credentials.command)
    _ = Bridge.takeUserOutput()
  }

  /// Turns what a call into module code came to into the request's result. A fault becomes an
  /// oops naming the module whose code ran (it is marked faulted) and EFAULT; an errno is
  /// thrown.
  func contain(_ outcome: Outcome, during: String) throws(KernelErrno) {
    if let fault = outcome.fault {
      let owner = modules.values.first { $0.linked.contains(fault.pc) } ?? modules[outcome.module]
      if let owner {
        owner.faulted = true
        Bridge.markFaulted(owner.id)
      }
      oops(
        fault, module: owner?.name ?? "?", id: owner?.id ?? -1, linked: owner?.linked,
        during: during)
      throw .EFAULT
    }
    if outcome.error != 0 { throw KernelErrno(outcome.error) }
  }

  // MARK: Paths

  /// A path's components from the root, with `.` and `..` applied (`..` of `/` is `/`).
  static func components(_ path: String) -> [String] {
    var result: [String] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      switch part {
      case ".": continue
      case "..": if !result.isEmpty { result.removeLast() }
      default: result.append(String(part))
      }
    }
    return result
  }

  static func joined(_ components: [String]) -> String { "/" + components.joined(separator: "/") }

  /// The mount whose mount point is the longest prefix of `components`, and the rest.
  func covering(_ components: [String]) -> (
    mount: MountHandle, path: [String], type: String, rest: [String]
  )? {
    var best: (MountHandle, [String], String, [String])?
    for m in Bridge.mounts {
      let point = Kernel.components(m.path)
      guard components.count >= point.count, Array(components.prefix(point.count)) == point else {
        continue
      }
      if best == nil || point.count > best!.1.count {
        best = (m.handle, point, m.type, Array(components.dropFirst(point.count)))
      }
    }
    return best
  }

  /// Resolves a path: /dev and its nodes, the mounted file systems (VFS_ROOT, then VOP_LOOKUP
  /// of each name), and the kernel's directories leading to mount points.
  func resolve(_ path: String) throws(KernelErrno) -> Resolved {
    let parts = Kernel.components(path)
    if parts.first == "dev" {
      if parts.count == 1 { return .devices }
      guard let node = deviceNodes[parts[1]] else { throw .ENOENT }
      guard parts.count == 2 else { throw .ENOTDIR }
      return .device(parts[1], node)
    }
    if let (mount, point, type, rest) = covering(parts) {
      let (rootVnode, outcome) = Bridge.root(mount)
      try contain(outcome, during: "vfs_root of '\(type)' on \(Kernel.joined(point))")
      guard var vnode = rootVnode else { throw .EFAULT }
      var name = point.last ?? "/"
      for component in rest {
        guard Bridge.vnodeType(mount, vnode) == 2 else { throw .ENOTDIR }  // VDIR
        guard component.utf8.count <= 255 else { throw .ENAMETOOLONG }
        let (found, outcome) = Bridge.lookup(mount, vnode, component, create: false)
        try contain(outcome, during: "vop_lookup of '\(type)'")
        guard let found else { throw .EFAULT }
        vnode = found
        name = component
      }
      return .vnode(mount, vnode, name: name)
    }
    if parts.isEmpty { return .kernelDirectory([]) }
    let leads = Bridge.mounts.contains { m in
      let point = Kernel.components(m.path)
      return point.count > parts.count && Array(point.prefix(parts.count)) == parts
    }
    guard leads else { throw .ENOENT }
    return .kernelDirectory(parts)
  }

  // MARK: /dev

  /// mknod(2) in the kernel's /dev.
  ///
  /// - Throws: EEXIST for a name in use, EOPNOTSUPP outside /dev, EINVAL for a number that does
  ///   not fit a dev_t (major 0-255, minor 0-16777215), ENAMETOOLONG.
  public func makeNode(_ path: String, _ node: DeviceNode, credentials: Credentials)
    throws(KernelErrno)
  {
    begin(credentials)
    let parts = Kernel.components(path)
    if parts.count == 2 && parts[0] == "dev" {
      guard parts[1].utf8.count <= 255 else { throw .ENAMETOOLONG }
      guard (0...255).contains(node.major), (0...0xff_ffff).contains(node.minor) else {
        throw .EINVAL
      }
      guard deviceNodes[parts[1]] == nil else { throw .EEXIST }
      deviceNodes[parts[1]] = node
      return
    }
    switch try? resolve(path) {
    case .some: throw .EEXIST
    case .none: throw .EOPNOTSUPP
    }
  }

  /// unlink(2) of a device node.
  ///
  /// - Throws: ENOENT, EISDIR for a directory, EOPNOTSUPP for a file of a file system (the
  ///   vnode interface has no remove).
  public func removeNode(_ path: String, credentials: Credentials) throws(KernelErrno) {
    begin(credentials)
    switch try resolve(path) {
    case .device(let name, _): deviceNodes[name] = nil
    case .devices, .kernelDirectory: throw .EISDIR
    case .vnode(let mount, let vnode, _):
      throw Bridge.vnodeType(mount, vnode) == 2 ? .EISDIR : .EOPNOTSUPP
    }
  }

  // MARK: Reading and writing

  /// Reads a device (d_read, or d_strategy per block) or a file (VOP_READ): up to `count`
  /// bytes from `offset`, or up to ``transferLimit`` until the end.
  public func read(_ path: String, count: Int?, offset: UInt64 = 0, credentials: Credentials)
    throws(KernelErrno)
    -> [UInt8]
  {
    begin(credentials)
    let limit = min(count ?? Kernel.transferLimit, Kernel.transferLimit)
    switch try resolve(path) {
    case .devices, .kernelDirectory: throw .EISDIR
    case .device(let name, let node):
      let block = node.kind == .block
      let (bytes, outcome) = Bridge.deviceRead(
        block: block, device: node.device, offset: offset, count: limit)
      try contain(
        outcome, during: "read of /dev/\(name) (\(block ? "bdevsw" : "cdevsw")[\(node.major)])")
      return bytes
    case .vnode(let mount, let vnode, let name):
      switch Bridge.vnodeType(mount, vnode) {
      case 2: throw .EISDIR
      case 1, 5: break
      default: throw .EOPNOTSUPP
      }
      let (bytes, outcome) = Bridge.read(mount, vnode, offset: offset, count: limit)
      try contain(outcome, during: "vop_read of '\(name)'")
      return bytes
    }
  }

  /// Writes to a device (d_write, or read-modify-write of blocks through d_strategy) or a file
  /// (VOP_WRITE, after VOP_CREATE if it does not exist and the file system can create).
  ///
  /// - Returns: the bytes written.
  /// - Throws: EROFS for a new name in the kernel's directories, ENOENT for one in /dev.
  @discardableResult
  public func write(_ path: String, _ bytes: [UInt8], offset: UInt64 = 0, credentials: Credentials)
    throws(KernelErrno) -> Int
  {
    begin(credentials)
    let target: Resolved
    do {
      target = try resolve(path)
    } catch .ENOENT {
      target = try create(path)
    }
    switch target {
    case .devices, .kernelDirectory: throw .EISDIR
    case .device(let name, let node):
      let block = node.kind == .block
      let (done, outcome) = Bridge.deviceWrite(
        block: block, device: node.device, offset: offset, bytes: bytes)
      try contain(
        outcome, during: "write of /dev/\(name) (\(block ? "bdevsw" : "cdevsw")[\(node.major)])")
      return done
    case .vnode(let mount, let vnode, let name):
      switch Bridge.vnodeType(mount, vnode) {
      case 2: throw .EISDIR
      case 1: break
      default: throw .EOPNOTSUPP
      }
      let (done, outcome) = Bridge.write(mount, vnode, offset: offset, bytes: bytes)
      try contain(outcome, during: "vop_write of '\(name)'")
      return done
    }
  }

  /// VOP_CREATE of a path's last name in its (file system) directory.
  func create(_ path: String) throws(KernelErrno) -> Resolved {
    var parts = Kernel.components(path)
    guard let name = parts.popLast() else { throw .EISDIR }
    guard name.utf8.count <= 255 else { throw .ENAMETOOLONG }
    switch try resolve(Kernel.joined(parts)) {
    case .kernelDirectory: throw .EROFS
    case .devices: throw .ENOENT
    case .device: throw .ENOTDIR
    case .vnode(let mount, let directory, _):
      guard Bridge.vnodeType(mount, directory) == 2 else { throw .ENOTDIR }
      let (vnode, outcome) = Bridge.lookup(mount, directory, name, create: true)
      try contain(outcome, during: "vop_create of '\(name)'")
      guard let vnode else { throw .EFAULT }
      return .vnode(mount, vnode, name: name)
    }
  }

  // MARK: ioctl

  /// ioctl(2) on a device node: the driver gets a buffer of IOCPARM_LEN(command) bytes (at
  /// least 8) holding `data` (the argument of an IOC_IN command); returns it as the driver left
  /// it (the result of an IOC_OUT command).
  ///
  /// - Throws: ENOTTY for anything but a device or an argument longer than IOCPARM_MAX (4096),
  ///   the driver's errno.
  public func ioctl(_ path: String, command: UInt64, data: [UInt8], credentials: Credentials)
    throws(KernelErrno) -> [UInt8]
  {
    begin(credentials)
    guard case .device(let name, let node) = try resolve(path) else { throw .ENOTTY }
    let length = Int((command >> 16) & 0x1fff)
    guard length <= 4096 else { throw .ENOTTY }
    var buffer = [UInt8](repeating: 0, count: max(length, 8, data.count))
    buffer.replaceSubrange(0..<data.count, with: data)
    let block = node.kind == .block
    let (result, outcome) = Bridge.deviceIoctl(
      block: block, device: node.device, command: command, data: buffer)
    try contain(
      outcome, during: "ioctl of /dev/\(name) (\(block ? "bdevsw" : "cdevsw")[\(node.major)])")
    return Array(result.prefix(max(length, data.count)))
  }

  // MARK: Listing

  /// A directory's entries (without `.` and `..`), or a file's own entry. `long` asks each
  /// file system entry for its attributes (VOP_LOOKUP, VOP_GETATTR).
  public func list(_ path: String, long: Bool, credentials: Credentials) throws(KernelErrno)
    -> [DirectoryEntry]
  {
    begin(credentials)
    switch try resolve(path) {
    case .devices:
      return deviceNodes.map {
        DirectoryEntry(name: $0.key, kind: .device($0.value), mode: $0.value.mode)
      }
    case .device(let name, let node):
      return [DirectoryEntry(name: name, kind: .device(node), mode: node.mode)]
    case .kernelDirectory(let parts):
      var names = Set<String>()
      if parts.isEmpty { names.insert("dev") }
      for m in Bridge.mounts {
        let point = Kernel.components(m.path)
        if point.count > parts.count && Array(point.prefix(parts.count)) == parts {
          names.insert(point[parts.count])
        }
      }
      return names.map { DirectoryEntry(name: $0, kind: .directory, mode: 0o755) }
    case .vnode(let mount, let vnode, let name):
      guard Bridge.vnodeType(mount, vnode) == 2 else {
        return [try entry(mount, vnode, name: name, long: long)]
      }
      var entries: [DirectoryEntry] = []
      for (entryName, type) in try readDirectory(mount, vnode, name: name) {
        guard long else {
          entries.append(DirectoryEntry(name: entryName, kind: Kernel.kind(ofDirentType: type)))
          continue
        }
        let (found, outcome) = Bridge.lookup(mount, vnode, entryName, create: false)
        try contain(outcome, during: "vop_lookup of '\(entryName)'")
        guard let found else { throw .EFAULT }
        entries.append(try entry(mount, found, name: entryName, long: true))
      }
      return entries
    }
  }

  func entry(_ mount: MountHandle, _ vnode: VnodeHandle, name: String, long: Bool)
    throws(KernelErrno)
    -> DirectoryEntry
  {
    let kind = Kernel.kind(ofVnodeType: Bridge.vnodeType(mount, vnode))
    guard long else { return DirectoryEntry(name: name, kind: kind) }
    let (attributes, outcome) = Bridge.attributes(mount, vnode)
    try contain(outcome, during: "vop_getattr of '\(name)'")
    return DirectoryEntry(
      name: name, kind: Kernel.kind(ofVnodeType: attributes.type), size: attributes.size,
      mode: attributes.mode.map { $0 & 0o7777 })
  }

  /// Every entry of a directory, through VOP_READDIR in 4 KiB rounds until its end flag.
  func readDirectory(_ mount: MountHandle, _ vnode: VnodeHandle, name: String) throws(KernelErrno)
    -> [(String, UInt8)]
  {
    var entries: [(String, UInt8)] = []
    var offset: Int64 = 0
    for _ in 0..<1000 {
      let (bytes, next, end, outcome) = Bridge.readDirectory(
        mount, vnode, offset: offset, count: 4096)
      try contain(outcome, during: "vop_readdir of '\(name)'")
      var at = 0
      while at + 24 <= bytes.count {
        let length = Int(bytes[at + 16]) | Int(bytes[at + 17]) << 8
        let nameLength = Int(bytes[at + 19])
        guard length >= 24 + nameLength + 1, at + length <= bytes.count else {
          log("lkm: vop_readdir of '\(name)' returned a malformed struct dirent at byte \(at)\n")
          throw .EIO
        }
        let entryName = String(decoding: bytes[(at + 24)..<(at + 24 + nameLength)], as: UTF8.self)
        if entryName != "." && entryName != ".." { entries.append((entryName, bytes[at + 18])) }
        at += length
      }
      if end || bytes.isEmpty || next == offset { break }
      offset = next
    }
    return entries
  }

  static func kind(ofVnodeType type: Int32) -> DirectoryEntry.Kind {
    switch type {
    case 1: .regular
    case 2: .directory
    case 5: .link
    default: .other
    }
  }

  static func kind(ofDirentType type: UInt8) -> DirectoryEntry.Kind {
    switch type {
    case 8: .regular
    case 4: .directory
    case 10: .link
    default: .other
    }
  }
}
