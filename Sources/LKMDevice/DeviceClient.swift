internal import Glibc
public import LKMInterface

/// A tool's session with lkmd: the analogue of an open /dev/lkm.
///
/// The hello that opens the session is sent at once, and its answer read with the first
/// request's: the request goes out without waiting for the device, so that the supervisor knows
/// the session is ready to use the device when its turn comes (it grants the device to ready
/// sessions first). A refusal of the open (EBUSY, EACCES) is then thrown by the first
/// ``perform(_:)`` as a ``DeviceError`` whose `call` is `open`.
public final class DeviceClient {
  let connection: SocketConnection
  /// The device path, for messages (where OpenBSD's tools said "/dev/lkm").
  public let path: String
  private var opened = false

  /// The device path: `--device`, else `$LKM_DEVICE`, else `/tmp/lkm-UID/lkm`.
  public static func defaultPath(_ option: String? = nil) -> String {
    if let option { return option }
    if let env = unsafe getenv("LKM_DEVICE"), unsafe env.pointee != 0 {
      return unsafe String(cString: env)
    }
    return "/tmp/lkm-\(getuid())/lkm"
  }

  /// Connects and asks for a session, read-write or read-only. An `exclusive` session (modload,
  /// modunload, modstat: an open of /dev/lkm) waits while another holds the device, unless
  /// `nonblocking` (then EBUSY); a process session (lkmctl) does not wait. With `confirm`,
  /// waits for the answer here.
  ///
  /// - Throws: ``DeviceError``: the host errno of connecting (ENOENT, ECONNREFUSED), or with
  ///   `confirm` the kernel's refusal (EBUSY, EACCES) converted to the host's number by name.
  public init(
    path: String, write: Bool, nonblocking: Bool = false, exclusive: Bool = true,
    confirm: Bool = false
  ) throws(DeviceError) {
    self.path = path
    connection = try SocketConnection.connect(to: path)
    try connection.send(
      Request.hello(write: write, nonblocking: nonblocking, exclusive: exclusive).encoded())
    if confirm { try confirmOpen() }
  }

  /// Reads the hello's answer (once).
  private func confirmOpen() throws(DeviceError) {
    guard !opened else { return }
    opened = true
    let reply: Reply
    do { reply = try Reply.decode(try connection.receive()) } catch let e as DeviceError {
      throw DeviceError(call: "open", errno: e.errno, detail: e.detail)
    } catch {
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

  /// Sends a request and waits for its reply (and, the first time, for the device).
  public func perform(_ request: Request) throws(DeviceError) -> Reply {
    try connection.send(request.encoded())
    try confirmOpen()
    let bytes = try connection.receive()
    do { return try Reply.decode(bytes) } catch {
      throw DeviceError(call: "recv", errno: EPROTO, detail: "malformed reply: \(error)")
    }
  }

  public func close() { connection.close() }
}
