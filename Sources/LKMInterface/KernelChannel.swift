/// What the supervisor sends the kernel process over their private socket pair, one frame
/// each; the kernel answers each `.request` with one ``Reply`` frame. Its first frame, before
/// any call, is a `Reply` with `.text("ready")`.
public enum KernelCall: Sendable, Equatable {
  /// A client's request (its encoding, as the client sent it) and who sent it.
  case request(Credentials, payload: [UInt8])
  /// Unload every module and exit 0 (lkmd is stopping).
  case shutdown

  public func encoded() -> [UInt8] {
    var w = WireWriter()
    switch self {
    case .request(let credentials, let payload):
      w.int(UInt8(1))
      w.int(credentials.pid)
      w.int(credentials.uid)
      w.int(credentials.gid)
      w.string(credentials.command)
      w.data(payload)
    case .shutdown:
      w.int(UInt8(2))
    }
    return w.bytes
  }

  public static func decode(_ bytes: [UInt8]) throws(WireError) -> KernelCall {
    var r = WireReader(bytes)
    let call: KernelCall
    switch try r.int(UInt8.self) {
    case 1:
      let credentials = Credentials(
        pid: try r.int(Int32.self), uid: try r.int(UInt32.self), gid: try r.int(UInt32.self),
        command: try r.string())
      call = .request(credentials, payload: try r.data())
    case 2:
      call = .shutdown
    case let kind:
      throw WireError("unknown kernel call \(kind)")
    }
    guard r.isAtEnd else { throw WireError("trailing bytes after kernel call") }
    return call
  }
}
