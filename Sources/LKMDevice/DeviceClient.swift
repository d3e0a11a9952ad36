internal import Glibc
public import LKMInterface

/// A tool's session with lkmd: the analogue of an open /dev/lkm.
public final class DeviceClient {
  let connection: SocketConnection
  /// The device path, for messages (where OpenBSD's tools said "/dev/lkm").
  public let path: String

  /// The device path: `--device`, else `$LKM_DEVICE`, else `/tmp/lkm-UID/lkm`.
  public static func defaultPath(_ option: String? = nil) -> String {
    if let option { return option }
    if let env = getenv("LKM_DEVICE"), env.pointee != 0 { return String(cString: env) }
    return "/tmp/lkm-\(getuid())/lkm"
  }

  /// Opens a session, waiting while another holds the device unless `nonblocking`.
  ///
  /// - Throws: ``DeviceError``: the host errno of connecting (ENOENT, ECONNREFUSED), or the
  ///   kernel's refusal (EBUSY, EACCES) converted to the host's number by name.
  public init(path: String, write: Bool, nonblocking: Bool = false) throws(DeviceError) {
    self.path = path
    connection = try SocketConnection.connect(to: path)
    try connection.send(Request.hello(write: write, nonblocking: nonblocking).encoded())
    let reply: Reply
    do { reply = try Reply.decode(try connection.receive()) } catch let e as DeviceError { throw e } catch {
      throw DeviceError(call: "open", errno: EPROTO, detail: "\(path): bad reply")
    }
    if let error = reply.error {
      let host: Int32 =
        switch error {
        case .EBUSY: EBUSY
        case .EACCES: EACCES
        case .EPERM: EPERM
        default: EIO
        }
      throw DeviceError(call: "open", errno: host)
    }
  }

  /// Sends a request and waits for its reply.
  public func perform(_ request: Request) throws(DeviceError) -> Reply {
    try connection.send(request.encoded())
    let bytes = try connection.receive()
    do { return try Reply.decode(bytes) } catch {
      throw DeviceError(call: "recv", errno: EPROTO, detail: "malformed reply: \(error)")
    }
  }

  public func close() { connection.close() }
}
