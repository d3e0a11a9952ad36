public import LKMKernel
public import ModuleLinker

/// A request to the kernel over the device. The corresponding OpenBSD interface is the ioctls
/// on /dev/lkm (LMRESERV … LMSTAT); one load request replaces the reserve/load/ready sequence.
public enum Request: Sendable {
  /// Opens a session: read-write or read-only, blocking or not (O_NONBLOCK: EBUSY if held).
  case hello(write: Bool, nonblocking: Bool)
  case load(LoadRequest)
  case unload(id: Int32, name: String?)
  case stat(id: Int32, name: String?)
  case syscall(number: Int32, arguments: [Kernel.SyscallArgument])
  case dmesg
  case sysctl(name: String?, value: String?)
  case ksyms
  /// Which module (or kernel function) an address is in.
  case addr(UInt64)
  /// The kernel's namespace and the switches behind it (see ``isKernelService``).
  case mknod(path: String, node: DeviceNode)
  case remove(path: String)
  /// `count` nil: up to ``Kernel/transferLimit`` bytes, until the end.
  case read(path: String, count: Int?, offset: UInt64)
  case write(path: String, data: [UInt8], offset: UInt64)
  case ioctl(path: String, command: UInt64, data: [UInt8])
  case mount(type: String, path: String)
  case unmount(path: String)
  /// The mount table and the file system types.
  case mounts
  case list(path: String, long: Bool)
  case exec(name: String, image: [UInt8], arguments: [String])

  var opcode: UInt8 {
    switch self {
    case .hello: 1
    case .load: 2
    case .unload: 3
    case .stat: 4
    case .syscall: 5
    case .dmesg: 6
    case .sysctl: 7
    case .ksyms: 8
    case .addr: 9
    case .mknod: 10
    case .remove: 11
    case .read: 12
    case .write: 13
    case .ioctl: 14
    case .mount: 15
    case .unmount: 16
    case .mounts: 17
    case .list: 18
    case .exec: 19
    }
  }

  /// Whether the request uses the kernel (devices, file systems, exec) rather than its module
  /// interface: securelevel does not restrict it, as it does not restrict devices and mounts on
  /// OpenBSD; it still needs a read-write session.
  public var isKernelService: Bool {
    switch self {
    case .mknod, .remove, .read, .write, .ioctl, .mount, .unmount, .mounts, .list, .exec: true
    default: false
    }
  }

  /// Whether the request only reads (allowed at any securelevel and on read-only sessions).
  public var isStat: Bool {
    switch self {
    case .stat, .dmesg, .ksyms, .hello, .addr: true
    case .sysctl(_, let value): value == nil
    default: false
    }
  }

  public func encoded() -> [UInt8] {
    var w = WireWriter()
    w.int(opcode)
    switch self {
    case .hello(let write, let nonblocking):
      w.bool(write)
      w.bool(nonblocking)
    case .load(let r):
      w.string(r.entry)
      w.bool(r.exportSymbols)
      w.bool(r.checkOnly)
      w.int(r.version)
      w.int(UInt32(r.inputs.count))
      for input in r.inputs {
        w.string(input.name)
        w.data(input.bytes)
      }
    case .unload(let id, let name), .stat(let id, let name):
      w.int(id)
      w.optionalString(name)
    case .syscall(let number, let arguments):
      w.int(number)
      w.int(UInt32(arguments.count))
      for a in arguments {
        switch a {
        case .integer(let v):
          w.int(UInt8(0))
          w.int(v)
        case .string(let s):
          w.int(UInt8(1))
          w.string(s)
        }
      }
    case .dmesg, .ksyms:
      break
    case .sysctl(let name, let value):
      w.optionalString(name)
      w.optionalString(value)
    case .addr(let address):
      w.int(address)
    case .mknod(let path, let node):
      w.string(path)
      w.bool(node.kind == .block)
      w.int(node.major)
      w.int(node.minor)
    case .remove(let path), .unmount(let path):
      w.string(path)
    case .read(let path, let count, let offset):
      w.string(path)
      w.int(Int64(count ?? -1))
      w.int(offset)
    case .write(let path, let data, let offset):
      w.string(path)
      w.data(data)
      w.int(offset)
    case .ioctl(let path, let command, let data):
      w.string(path)
      w.int(command)
      w.data(data)
    case .mount(let type, let path):
      w.string(type)
      w.string(path)
    case .mounts:
      break
    case .list(let path, let long):
      w.string(path)
      w.bool(long)
    case .exec(let name, let image, let arguments):
      w.string(name)
      w.data(image)
      w.int(UInt32(arguments.count))
      for a in arguments { w.string(a) }
    }
    return w.bytes
  }

  /// Decodes a request; `objectLimit` bounds the bytes of one load.
  public static func decode(_ bytes: [UInt8], objectLimit: Int) throws(WireError) -> Request {
    var r = WireReader(bytes)
    let opcode = try r.int(UInt8.self)
    let request: Request
    switch opcode {
    case 1:
      request = .hello(write: try r.bool(), nonblocking: try r.bool())
    case 2:
      let entry = try r.string()
      let export = try r.bool()
      let check = try r.bool()
      let version = try r.int(Int32.self)
      let n = try r.count(limit: 4096)
      var inputs: [LoadRequest.Input] = []
      var total = 0
      for _ in 0..<n {
        let name = try r.string()
        let data: [UInt8]
        do { data = try r.data(limit: objectLimit) } catch {
          throw WireError("module of more than \(objectLimit) bytes", errno: 27)
        }
        total += data.count
        guard total <= objectLimit else { throw WireError("module of more than \(objectLimit) bytes", errno: 27) }
        inputs.append(.init(name: name, bytes: data))
      }
      var load = LoadRequest(inputs: inputs, entry: entry)
      load.exportSymbols = export
      load.checkOnly = check
      load.version = version
      request = .load(load)
    case 3:
      request = .unload(id: try r.int(Int32.self), name: try r.optionalString())
    case 4:
      request = .stat(id: try r.int(Int32.self), name: try r.optionalString())
    case 5:
      let number = try r.int(Int32.self)
      let n = try r.count(limit: 16)
      var arguments: [Kernel.SyscallArgument] = []
      for _ in 0..<n {
        switch try r.int(UInt8.self) {
        case 0: arguments.append(.integer(try r.int(Int64.self)))
        case 1: arguments.append(.string(try r.string()))
        default: throw WireError("unknown argument kind")
        }
      }
      request = .syscall(number: number, arguments: arguments)
    case 6: request = .dmesg
    case 7: request = .sysctl(name: try r.optionalString(), value: try r.optionalString())
    case 8: request = .ksyms
    case 9: request = .addr(try r.int(UInt64.self))
    case 10:
      let path = try r.string()
      let block = try r.bool()
      let major = try r.int(Int32.self)
      let minor = try r.int(Int32.self)
      request = .mknod(path: path, node: DeviceNode(kind: block ? .block : .character, major: major, minor: minor))
    case 11: request = .remove(path: try r.string())
    case 12:
      let path = try r.string()
      let count = try r.int(Int64.self)
      guard count >= -1 else { throw WireError("negative count") }
      request = .read(path: path, count: count < 0 ? nil : Int(count), offset: try r.int(UInt64.self))
    case 13:
      request = .write(path: try r.string(), data: try r.data(limit: objectLimit), offset: try r.int(UInt64.self))
    case 14:
      request = .ioctl(path: try r.string(), command: try r.int(UInt64.self), data: try r.data(limit: 1 << 13))
    case 15: request = .mount(type: try r.string(), path: try r.string())
    case 16: request = .unmount(path: try r.string())
    case 17: request = .mounts
    case 18: request = .list(path: try r.string(), long: try r.bool())
    case 19:
      let name = try r.string()
      let image = try r.data(limit: objectLimit)
      var arguments: [String] = []
      for _ in 0..<(try r.count(limit: 4096)) { arguments.append(try r.string()) }
      request = .exec(name: name, image: image, arguments: arguments)
    default: throw WireError("unknown request \(opcode)")
    }
    guard r.isAtEnd else { throw WireError("trailing bytes after request") }
    return request
  }
}

/// A reply: the errno (0 for success) and what the request returns.
public struct Reply: Sendable {
  public var errno: Int32 = 0
  /// For loads: 0 loaded, 1 link failed, 2 refused.
  public var outcome: UInt8 = 0
  public var id: Int32 = -1
  public var entry: UInt64 = 0
  /// Link errors, one per line; or the text a request returns (dmesg, sysctl, uprintf output).
  public var lines: [String] = []
  public var text: String = ""
  public var retval: Int64 = 0
  public var status: ModuleStatus?
  public var placements: [SectionPlacement] = []
  public var symbols: [KernelSymbol] = []
  /// Bytes a read returns (or an ioctl's argument as the driver left it).
  public var data: [UInt8] = []
  /// A directory listing.
  public var entries: [DirectoryEntry] = []
  /// The mount table (`mounts`), then the file system types as MountEntry(type: name, path: "").
  public var mounts: [MountEntry] = []
  public var fileSystems: [FileSystemType] = []

  public init(errno: Int32 = 0) { self.errno = errno }

  public func encoded() -> [UInt8] {
    var w = WireWriter()
    w.int(errno)
    w.int(outcome)
    w.int(id)
    w.int(entry)
    w.int(UInt32(lines.count))
    for line in lines { w.string(line) }
    w.string(text)
    w.int(retval)
    w.bool(status != nil)
    if let s = status {
      w.int(s.id)
      w.string(s.name)
      w.int(s.type)
      w.int(s.offset)
      w.int(s.area)
      w.int(s.pages)
      w.int(s.privateAddress)
      w.int(s.version)
      w.bool(s.faulted)
      w.int(UInt32(s.users.count))
      for u in s.users { w.string(u) }
    }
    w.int(UInt32(placements.count))
    for p in placements {
      w.string(p.object)
      w.int(UInt32(p.index))
      w.string(p.name)
      w.int(p.address)
      w.int(p.size)
    }
    w.int(UInt32(symbols.count))
    for s in symbols {
      w.int(s.address)
      w.string(String(s.type))
      w.string(s.name)
      w.optionalString(s.module)
    }
    w.data(data)
    w.int(UInt32(entries.count))
    for e in entries { Reply.encode(e, into: &w) }
    w.int(UInt32(mounts.count))
    for m in mounts {
      w.string(m.type)
      w.string(m.path)
    }
    w.int(UInt32(fileSystems.count))
    for f in fileSystems {
      w.string(f.name)
      w.int(f.typeNumber)
      w.int(f.mounts)
      w.int(f.module)
    }
    return w.bytes
  }

  static func encode(_ e: DirectoryEntry, into w: inout WireWriter) {
    w.string(e.name)
    var node = DeviceNode(kind: .character, major: 0, minor: 0)
    switch e.kind {
    case .directory: w.int(UInt8(0))
    case .regular: w.int(UInt8(1))
    case .link: w.int(UInt8(2))
    case .other: w.int(UInt8(3))
    case .device(let n):
      w.int(UInt8(n.kind == .block ? 5 : 4))
      node = n
    }
    w.int(node.major)
    w.int(node.minor)
    w.bool(e.size != nil)
    w.int(e.size ?? 0)
    w.bool(e.mode != nil)
    w.int(e.mode ?? 0)
  }

  static func decodeEntry(_ r: inout WireReader) throws(WireError) -> DirectoryEntry {
    let name = try r.string()
    let kindCode = try r.int(UInt8.self)
    let major = try r.int(Int32.self)
    let minor = try r.int(Int32.self)
    let hasSize = try r.bool()
    let size = try r.int(Int64.self)
    let hasMode = try r.bool()
    let mode = try r.int(Int64.self)
    let kind: DirectoryEntry.Kind
    switch kindCode {
    case 0: kind = .directory
    case 1: kind = .regular
    case 2: kind = .link
    case 3: kind = .other
    case 4, 5:
      kind = .device(DeviceNode(kind: kindCode == 5 ? .block : .character, major: major, minor: minor, mode: mode))
    default: throw WireError("unknown entry kind \(kindCode)")
    }
    return DirectoryEntry(name: name, kind: kind, size: hasSize ? size : nil, mode: hasMode ? mode : nil)
  }

  public static func decode(_ bytes: [UInt8]) throws(WireError) -> Reply {
    var r = WireReader(bytes)
    var reply = Reply()
    reply.errno = try r.int(Int32.self)
    reply.outcome = try r.int(UInt8.self)
    reply.id = try r.int(Int32.self)
    reply.entry = try r.int(UInt64.self)
    for _ in 0..<(try r.count(limit: 1 << 20)) { reply.lines.append(try r.string()) }
    reply.text = try r.string()
    reply.retval = try r.int(Int64.self)
    if try r.bool() {
      reply.status = ModuleStatus(
        id: try r.int(Int32.self), name: try r.string(), type: try r.int(Int32.self),
        offset: try r.int(Int64.self), area: try r.int(UInt64.self), pages: try r.int(UInt64.self),
        privateAddress: try r.int(UInt64.self), version: try r.int(Int32.self),
        faulted: try r.bool())
      for _ in 0..<(try r.count(limit: 4096)) { reply.status!.users.append(try r.string()) }
    }
    for _ in 0..<(try r.count(limit: 1 << 22)) {
      reply.placements.append(
        SectionPlacement(
          object: try r.string(), index: Int(try r.int(UInt32.self)), name: try r.string(),
          address: try r.int(UInt64.self), size: try r.int(UInt64.self)))
    }
    for _ in 0..<(try r.count(limit: 1 << 22)) {
      let address = try r.int(UInt64.self)
      let type = try r.string().first ?? "?"
      reply.symbols.append(
        KernelSymbol(address: address, type: type, name: try r.string(), module: try r.optionalString()))
    }
    reply.data = try r.data()
    for _ in 0..<(try r.count(limit: 1 << 20)) { reply.entries.append(try decodeEntry(&r)) }
    for _ in 0..<(try r.count(limit: 1 << 16)) {
      reply.mounts.append(MountEntry(type: try r.string(), path: try r.string()))
    }
    for _ in 0..<(try r.count(limit: 1 << 16)) {
      reply.fileSystems.append(
        FileSystemType(
          name: try r.string(), typeNumber: try r.int(Int32.self), mounts: try r.int(UInt32.self),
          module: try r.int(Int32.self)))
    }
    return reply
  }
}
