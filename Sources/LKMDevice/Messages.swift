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
    return w.bytes
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
    return reply
  }
}
