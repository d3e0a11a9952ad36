/// What the supervisor sends the kernel process over their private socket pair, one frame
/// each. Requests carry an id; the kernel answers each `.request` and `.ping` with one
/// ``KernelAnswer`` frame bearing the same id, in any order (requests run in kernel threads
/// and may sleep). Its first frame, before any call, is an answer with id 0 and
/// `Reply(.text("ready"))`.
public enum KernelCall: Sendable, Equatable {
  /// A client's request (its encoding, as the client sent it) and who sent it.
  case request(id: UInt64, Credentials, payload: [UInt8])
  /// The client of request `id` went away: a sleep with PCATCH in it ends with EINTR.
  case cancel(id: UInt64)
  /// Answered at once by the thread that reads the channel (it never takes the kernel's lock):
  /// the kernel process is alive.
  case ping(id: UInt64)
  /// Unload every module and exit 0 (lkmd is stopping).
  case shutdown

  public func encoded() -> [UInt8] {
    var w = WireWriter()
    switch self {
    case .request(let id, let credentials, let payload):
      w.int(UInt8(1))
      w.int(id)
      w.int(credentials.pid)
      w.int(credentials.uid)
      w.int(credentials.gid)
      w.string(credentials.command)
      w.int(UInt32(credentials.groups.count))
      for group in credentials.groups { w.int(group) }
      w.data(payload)
    case .shutdown:
      w.int(UInt8(2))
    case .cancel(let id):
      w.int(UInt8(3))
      w.int(id)
    case .ping(let id):
      w.int(UInt8(4))
      w.int(id)
    }
    return w.bytes
  }

  public static func decode(_ bytes: [UInt8]) throws(WireError) -> KernelCall {
    var r = WireReader(bytes)
    let call: KernelCall
    switch try r.int(UInt8.self) {
    case 1:
      let id = try r.int(UInt64.self)
      var credentials = Credentials(
        pid: try r.int(Int32.self), uid: try r.int(UInt32.self), gid: try r.int(UInt32.self),
        command: try r.string())
      let groups = try r.count(limit: 65536)
      for _ in 0..<groups { credentials.groups.append(try r.int(UInt32.self)) }
      call = .request(id: id, credentials, payload: try r.data())
    case 2:
      call = .shutdown
    case 3:
      call = .cancel(id: try r.int(UInt64.self))
    case 4:
      call = .ping(id: try r.int(UInt64.self))
    case let kind:
      throw WireError("unknown kernel call \(kind)")
    }
    guard r.isAtEnd else { throw WireError("trailing bytes after kernel call") }
    return call
  }
}

/// The kernel process's answer to a request or a ping: its id and the encoded ``Reply``.
public struct KernelAnswer: Sendable, Equatable {
  public var id: UInt64
  public var reply: [UInt8]
  public init(id: UInt64, reply: [UInt8]) {
    self.id = id
    self.reply = reply
  }

  public func encoded() -> [UInt8] {
    var w = WireWriter()
    w.int(id)
    return w.bytes + reply
  }

  public static func decode(_ bytes: [UInt8]) throws(WireError) -> KernelAnswer {
    guard bytes.count >= 8 else { throw WireError("truncated kernel answer") }
    var id: UInt64 = 0
    for i in 0..<8 { id |= UInt64(bytes[i]) << (8 * UInt64(i)) }
    return KernelAnswer(id: id, reply: Array(bytes[8...]))
  }
}
