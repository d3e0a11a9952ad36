// The only file of LKMDevice that calls the socket API.
internal import Glibc
import LKMInterface

/// A host error from a socket call: the Linux errno and its name, for converting to the
/// kernel's OpenBSD numbering by name.
public struct DeviceError: Error, Sendable, CustomStringConvertible {
  public var call: String
  public var errno: Int32
  public var detail: String?
  public init(call: String, errno: Int32, detail: String? = nil) {
    self.call = call
    self.errno = errno
    self.detail = detail
  }
  public var description: String {
    unsafe detail ?? "\(call): \(String(cString: strerror(errno)))"
  }
  /// The OpenBSD text for this host errno (converted by name).
  public var openBSDText: String {
    switch errno {
    case ENOENT: "No such file or directory"
    case ECONNREFUSED: "Connection refused"
    case EACCES: "Permission denied"
    case EPERM: "Operation not permitted"
    case EBUSY: "Device busy"
    case ENOTSOCK: "Socket operation on non-socket"
    case ENOTDIR: "Not a directory"
    case ECONNRESET: "Connection reset by peer"
    case EPIPE: "Broken pipe"
    case ETIMEDOUT: "Operation timed out"
    default: unsafe String(cString: strerror(errno))
    }
  }
}

/// One connected Unix-domain stream socket, owned: closed once, in deinit or ``close()``.
public final class SocketConnection: @unchecked Sendable {
  public private(set) var fd: Int32

  init(fd: Int32) { self.fd = fd }
  deinit { close() }

  public func close() {
    if fd >= 0 {
      _ = Glibc.close(fd)
      fd = -1
    }
  }

  /// Connects to the socket at `path`.
  public static func connect(to path: String) throws(DeviceError) -> SocketConnection {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw DeviceError(call: "socket", errno: errno) }
    let connection = SocketConnection(fd: fd)
    var address = try unixAddress(path)
    let status = unsafe withUnsafePointer(to: &address) {
      unsafe $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        unsafe Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard status == 0 else { throw DeviceError(call: "connect", errno: errno) }
    return connection
  }

  static func unixAddress(_ path: String) throws(DeviceError) -> sockaddr_un {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
      throw DeviceError(call: "socket", errno: ENAMETOOLONG)
    }
    unsafe withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in bytes.enumerated() { unsafe raw[i] = b }
      unsafe raw[bytes.count] = 0
    }
    return address
  }

  /// Sends one frame (``Frame``).
  public func send(_ payload: [UInt8]) throws(DeviceError) {
    let frame = Frame.encode(payload)
    var done = 0
    while done < frame.count {
      let n = unsafe frame.withUnsafeBytes {
        unsafe Glibc.send(fd, $0.baseAddress! + done, frame.count - done, Int32(MSG_NOSIGNAL))
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw DeviceError(call: "send", errno: errno)
      }
      done += n
    }
  }

  /// Receives one frame (blocking).
  public func receive(limit: Int = 1 << 30) throws(DeviceError) -> [UInt8] {
    let length = Frame.length(header: try readExactly(Frame.headerSize))
    guard length <= limit else {
      throw DeviceError(
        call: "recv", errno: EMSGSIZE, detail: "reply of \(length) bytes is too large")
    }
    return try readExactly(length)
  }

  func readExactly(_ count: Int) throws(DeviceError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
      let n = unsafe buffer.withUnsafeMutableBytes {
        unsafe recv(fd, $0.baseAddress! + done, count - done, 0)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw DeviceError(call: "recv", errno: errno)
      }
      if n == 0 {
        throw DeviceError(call: "recv", errno: ECONNRESET, detail: "the kernel closed the session")
      }
      done += n
    }
    return buffer
  }
}
