/// What a request asks, as the first byte of its encoding.
///
/// The corresponding OpenBSD interface is the ioctls on /dev/lkm (`LMRESERV` … `LMSTAT`), then
/// the system calls userland makes; one load request replaces the reserve/load/ready sequence.
public enum Opcode: UInt8, Sendable, CaseIterable {
  case hello = 1
  case load = 2
  case unload = 3
  case stat = 4
  case syscall = 5
  case dmesg = 6
  case sysctl = 7
  case ksyms = 8
  case addr = 9
  case mknod = 10
  case remove = 11
  case read = 12
  case write = 13
  case ioctl = 14
  case mount = 15
  case unmount = 16
  case mounts = 17
  case list = 18
  case exec = 19
  case crashes = 20
}

/// A request to the kernel over the device.
public enum Request: Sendable {
  /// Opens a session: read-write or read-only. An `exclusive` session is an open of /dev/lkm:
  /// one at a time (a second waits, or with `nonblocking` gets EBUSY), and only it may use the
  /// module interface (load, unload, stat). Other sessions are processes making system calls
  /// (everything else), as many at once as come, each request in a kernel thread of its own.
  case hello(write: Bool, nonblocking: Bool, exclusive: Bool = true)
  case load(LoadRequest)
  /// `force` (`modunload -f`, not OpenBSD's): remove the module without running its code.
  case unload(id: Int32, name: String?, force: Bool = false)
  case stat(id: Int32, name: String?)
  case syscall(number: Int32, arguments: [SyscallArgument])
  /// The message buffer; with `timestamps`, with when each line was written (a
  /// ``Reply/Body/messages(text:lineTimes:)`` reply, else `.text`).
  case dmesg(timestamps: Bool)
  case sysctl(name: String?, value: String?)
  case ksyms
  /// Which module (or kernel function) an address is in.
  case addr(UInt64)
  /// The kernel's namespace and the switches behind it (see ``isKernelService``).
  case mknod(path: String, node: DeviceNode)
  case remove(path: String)
  /// `count` nil: up to the kernel's transfer limit, until the end.
  case read(path: String, count: Int?, offset: UInt64)
  case write(path: String, data: [UInt8], offset: UInt64)
  case ioctl(path: String, command: UInt64, data: [UInt8])
  case mount(type: String, path: String)
  case unmount(path: String)
  /// The mount table and the file system types.
  case mounts
  case list(path: String, long: Bool)
  case exec(name: String, image: [UInt8], arguments: [String])
  /// The supervisor's crash reports (the kernel process died or hung and was rebooted).
  case crashes

  public var opcode: Opcode {
    switch self {
    case .hello: .hello
    case .load: .load
    case .unload: .unload
    case .stat: .stat
    case .syscall: .syscall
    case .dmesg: .dmesg
    case .sysctl: .sysctl
    case .ksyms: .ksyms
    case .addr: .addr
    case .mknod: .mknod
    case .remove: .remove
    case .read: .read
    case .write: .write
    case .ioctl: .ioctl
    case .mount: .mount
    case .unmount: .unmount
    case .mounts: .mounts
    case .list: .list
    case .exec: .exec
    case .crashes: .crashes
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

  /// Whether the request is of the module interface (the ioctls on /dev/lkm): only an exclusive
  /// session may make it.
  public var needsDevice: Bool {
    switch self {
    case .load, .unload, .stat: true
    default: false
    }
  }

  /// Whether the request only reads (allowed at any securelevel and on read-only sessions).
  public var isStat: Bool {
    switch self {
    case .stat, .dmesg, .ksyms, .hello, .addr, .crashes: true
    case .sysctl(_, let value): value == nil
    default: false
    }
  }

  /// A short description for logs and crash reports (`load hello.o`, `syscall 210`).
  public var summary: String {
    switch self {
    case .hello: "hello"
    case .load(let r): "load \(r.inputs.map(\.name).joined(separator: " "))"
    case .unload(let id, let name, _): "unload \(name.map { "'\($0)'" } ?? "id \(id)")"
    case .stat(let id, let name): "stat \(name.map { "'\($0)'" } ?? "id \(id)")"
    case .syscall(let number, _): "syscall \(number)"
    case .dmesg: "dmesg"
    case .sysctl(let name, let value): "sysctl \(name ?? "")\(value.map { "=\($0)" } ?? "")"
    case .ksyms: "ksyms"
    case .addr(let address): "addr 0x\(String(address, radix: 16))"
    case .mknod(let path, _): "mknod \(path)"
    case .remove(let path): "rm \(path)"
    case .read(let path, _, _): "read \(path)"
    case .write(let path, _, _): "write \(path)"
    case .ioctl(let path, let command, _): "ioctl \(path) 0x\(String(command, radix: 16))"
    case .mount(let type, let path): "mount \(type) \(path)"
    case .unmount(let path): "umount \(path)"
    case .mounts: "mounts"
    case .list(let path, _): "ls \(path)"
    case .exec(let name, _, _): "exec \(name)"
    case .crashes: "crashes"
    }
  }

  public func encoded() -> [UInt8] {
    var w = WireWriter()
    w.int(opcode.rawValue)
    switch self {
    case .hello(let write, let nonblocking, let exclusive):
      w.bool(write)
      w.bool(nonblocking)
      w.bool(exclusive)
    case .load(let r):
      w.optionalString(r.entry)
      w.bool(r.exportSymbols)
      w.bool(r.checkOnly)
      w.int(r.version)
      w.int(UInt32(r.inputs.count))
      for input in r.inputs {
        w.string(input.name)
        w.data(input.bytes)
      }
    case .unload(let id, let name, let force):
      w.int(id)
      w.optionalString(name)
      w.bool(force)
    case .stat(let id, let name):
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
    case .dmesg(let timestamps):
      // Without timestamps, the request's first form (the opcode alone).
      if timestamps { w.bool(true) }
    case .ksyms, .mounts, .crashes:
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

  /// The opcode of an encoded request, without decoding the rest; nil if unknown.
  public static func opcode(of bytes: [UInt8]) -> Opcode? {
    bytes.first.flatMap(Opcode.init(rawValue:))
  }

  /// Decodes a request; `objectLimit` bounds the bytes of one load, write or exec.
  ///
  /// - Throws: ``WireError`` for an unknown opcode, a truncated or overlong field, a count over
  ///   its limit, or trailing bytes (EFBIG for a module over the limit, else EINVAL).
  public static func decode(_ bytes: [UInt8], objectLimit: Int) throws(WireError) -> Request {
    var r = WireReader(bytes)
    let code = try r.int(UInt8.self)
    guard let opcode = Opcode(rawValue: code) else { throw WireError("unknown request \(code)") }
    let request: Request
    switch opcode {
    case .hello:
      let write = try r.bool()
      let nonblocking = try r.bool()
      // Without the third byte (the first form of the protocol), an open of /dev/lkm.
      request = .hello(write: write, nonblocking: nonblocking, exclusive: r.isAtEnd ? true : try r.bool())
    case .load:
      let entry = try r.optionalString()
      let export = try r.bool()
      let check = try r.bool()
      let version = try r.int(Int32.self)
      let n = try r.count(limit: 4096)
      var inputs: [LoadRequest.Input] = []
      var total = 0
      let tooLarge = WireError(
        "module of more than \(objectLimit) bytes", errno: KernelErrno.EFBIG.rawValue)
      for _ in 0..<n {
        let name = try r.string()
        let data: [UInt8]
        do { data = try r.data(limit: objectLimit) } catch { throw tooLarge }
        total += data.count
        guard total <= objectLimit else { throw tooLarge }
        inputs.append(.init(name: name, bytes: data))
      }
      var load = LoadRequest(inputs: inputs, entry: entry)
      load.exportSymbols = export
      load.checkOnly = check
      load.version = version
      request = .load(load)
    case .unload:
      request = .unload(id: try r.int(Int32.self), name: try r.optionalString(), force: try r.bool())
    case .stat:
      request = .stat(id: try r.int(Int32.self), name: try r.optionalString())
    case .syscall:
      let number = try r.int(Int32.self)
      let n = try r.count(limit: 16)
      var arguments: [SyscallArgument] = []
      for _ in 0..<n {
        switch try r.int(UInt8.self) {
        case 0: arguments.append(.integer(try r.int(Int64.self)))
        case 1: arguments.append(.string(try r.string()))
        default: throw WireError("unknown argument kind")
        }
      }
      request = .syscall(number: number, arguments: arguments)
    case .dmesg: request = .dmesg(timestamps: r.isAtEnd ? false : try r.bool())
    case .sysctl: request = .sysctl(name: try r.optionalString(), value: try r.optionalString())
    case .ksyms: request = .ksyms
    case .addr: request = .addr(try r.int(UInt64.self))
    case .mknod:
      let path = try r.string()
      let block = try r.bool()
      let major = try r.int(Int32.self)
      let minor = try r.int(Int32.self)
      request = .mknod(
        path: path, node: DeviceNode(kind: block ? .block : .character, major: major, minor: minor))
    case .remove: request = .remove(path: try r.string())
    case .read:
      let path = try r.string()
      let count = try r.int(Int64.self)
      guard count >= -1 else { throw WireError("negative count") }
      request = .read(
        path: path, count: count < 0 ? nil : Int(count), offset: try r.int(UInt64.self))
    case .write:
      request = .write(
        path: try r.string(), data: try r.data(limit: objectLimit), offset: try r.int(UInt64.self))
    case .ioctl:
      request = .ioctl(
        path: try r.string(), command: try r.int(UInt64.self), data: try r.data(limit: 1 << 13))
    case .mount: request = .mount(type: try r.string(), path: try r.string())
    case .unmount: request = .unmount(path: try r.string())
    case .mounts: request = .mounts
    case .list: request = .list(path: try r.string(), long: try r.bool())
    case .exec:
      let name = try r.string()
      let image = try r.data(limit: objectLimit)
      var arguments: [String] = []
      for _ in 0..<(try r.count(limit: 4096)) { arguments.append(try r.string()) }
      request = .exec(name: name, image: image, arguments: arguments)
    case .crashes: request = .crashes
    }
    guard r.isAtEnd else { throw WireError("trailing bytes after request") }
    return request
  }
}
