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
  // 7 (sysctl) and 10-16 and 18 (the kernel's namespace) were requests of their own before
  // they were system calls (__sysctl, mknod, unlink, open/read/write/ioctl, mount, unmount,
  // getdents): their numbers are not reused.
  case ksyms = 8
  case addr = 9
  case fileSystems = 17
  case exec = 19
  case crashes = 20
  /// The supervisor to the kernel: a process has no session left (its descriptors close).
  case exit = 21
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
  /// A system call through the kernel's sysent, for the session's process: what userland asks
  /// of the kernel (open, read, getdents, mount, __sysctl...), under OpenBSD's numbers.
  case syscall(number: Int32, arguments: [SyscallArgument])
  /// The message buffer; with `timestamps`, with when each line was written (a
  /// ``Reply/Body/messages(text:lineTimes:)`` reply, else `.text`).
  case dmesg(timestamps: Bool)
  case ksyms
  /// Which module (or kernel function) an address is in.
  case addr(UInt64)
  /// The file system types modules registered (vfsconf).
  case fileSystems
  case exec(name: String, image: [UInt8], arguments: [String])
  /// The supervisor's crash reports (the kernel process died or hung and was rebooted).
  case crashes
  /// The supervisor to the kernel process: process `pid` has no session left.
  case exit(pid: Int32)

  public var opcode: Opcode {
    switch self {
    case .hello: .hello
    case .load: .load
    case .unload: .unload
    case .stat: .stat
    case .syscall: .syscall
    case .dmesg: .dmesg
    case .ksyms: .ksyms
    case .addr: .addr
    case .fileSystems: .fileSystems
    case .exec: .exec
    case .crashes: .crashes
    case .exit: .exit
    }
  }

  /// Whether the request uses the kernel (system calls, exec) rather than its module
  /// interface: securelevel does not restrict it, as it does not restrict system calls on
  /// OpenBSD; it still needs a read-write session.
  public var isKernelService: Bool {
    switch self {
    case .syscall, .exec, .fileSystems: true
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
    case .stat, .dmesg, .ksyms, .hello, .addr, .crashes, .fileSystems: true
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
    case .ksyms: "ksyms"
    case .addr(let address): "addr 0x\(String(address, radix: 16))"
    case .fileSystems: "file system types"
    case .exec(let name, _, _): "exec \(name)"
    case .crashes: "crashes"
    case .exit(let pid): "exit of process \(pid)"
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
        case .bytes(let b):
          w.int(UInt8(2))
          w.data(b)
        case .buffer(let n):
          w.int(UInt8(3))
          w.int(UInt32(n))
        case .both(let b):
          w.int(UInt8(4))
          w.data(b)
        }
      }
    case .dmesg(let timestamps):
      // Without timestamps, the request's first form (the opcode alone).
      if timestamps { w.bool(true) }
    case .ksyms, .fileSystems, .crashes:
      break
    case .addr(let address):
      w.int(address)
    case .exit(let pid):
      w.int(pid)
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

  /// The most bytes a system call's buffers may hold together.
  public static let syscallBufferLimit = 16 << 20

  /// Decodes a request; `objectLimit` bounds the bytes of one load or exec.
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
      request = .hello(
        write: write, nonblocking: nonblocking, exclusive: r.isAtEnd ? true : try r.bool())
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
      request = .unload(
        id: try r.int(Int32.self), name: try r.optionalString(), force: try r.bool())
    case .stat:
      request = .stat(id: try r.int(Int32.self), name: try r.optionalString())
    case .syscall:
      let number = try r.int(Int32.self)
      let n = try r.count(limit: 16)
      var arguments: [SyscallArgument] = []
      var total = 0
      let limit = Request.syscallBufferLimit
      func count(_ k: Int) throws(WireError) -> Int {
        total += k
        guard total <= limit else {
          throw WireError("system call buffers of more than \(limit) bytes")
        }
        return k
      }
      for _ in 0..<n {
        switch try r.int(UInt8.self) {
        case 0: arguments.append(.integer(try r.int(Int64.self)))
        case 1: arguments.append(.string(try r.string()))
        case 2:
          let b = try r.data(limit: limit)
          _ = try count(b.count)
          arguments.append(.bytes(b))
        case 3: arguments.append(.buffer(try count(Int(try r.int(UInt32.self)))))
        case 4:
          let b = try r.data(limit: limit)
          _ = try count(b.count)
          arguments.append(.both(b))
        default: throw WireError("unknown argument kind")
        }
      }
      request = .syscall(number: number, arguments: arguments)
    case .dmesg: request = .dmesg(timestamps: r.isAtEnd ? false : try r.bool())
    case .ksyms: request = .ksyms
    case .addr: request = .addr(try r.int(UInt64.self))
    case .fileSystems: request = .fileSystems
    case .exit: request = .exit(pid: try r.int(Int32.self))
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
