public import Foundation
import Glibc
import LKMDevice
public import LKMInterface

/// A client speaking the device protocol directly, for what no tool does: holding a session,
/// pipelining, disconnecting mid-request, sending malformed frames. Requests and replies go
/// through the product's codec (`Request.encoded()`, `Frame.encode`, `Reply.decode`); bytes a
/// test writes by hand are malformed on purpose and built by ``malformedFrame(_:)`` and
/// ``header(announcing:)``.
public final class RawDeviceClient: @unchecked Sendable {
  private let connection: SocketConnection

  /// The socket's descriptor (for tests that set it non-blocking and write raw).
  public var fd: Int32 { connection.fd }

  /// Connects to the device at `path`; a reply not read within ten seconds is an error.
  public init(path: String) throws {
    connection = try SocketConnection.connect(to: path)
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    unsafe setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  public func close() { connection.close() }

  /// Writes bytes as they are (frames, or parts of frames).
  public func write(_ bytes: [UInt8]) throws {
    var done = 0
    while done < bytes.count {
      let n = unsafe bytes.withUnsafeBytes {
        unsafe send(fd, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
      }
      guard n > 0 else { throw TestSupport.Failure("send: errno \(errno)") }
      done += n
    }
  }

  /// A request's frame, encoded by the product's codec.
  public static func frame(_ request: Request) -> [UInt8] { Frame.encode(request.encoded()) }

  /// A read-write hello, blocking or not (an exclusive session: an open of /dev/lkm).
  public static func hello(write: Bool = true, nonblocking: Bool = false) -> [UInt8] {
    frame(.hello(write: write, nonblocking: nonblocking))
  }

  /// A stat request by id.
  public static func stat(id: Int32) -> [UInt8] { frame(.stat(id: id, name: nil)) }

  /// A frame around `payload` written by hand: a request that is malformed on purpose (an
  /// unknown opcode, a truncated body, trailing bytes).
  public static func malformedFrame(_ payload: [UInt8]) -> [UInt8] { Frame.encode(payload) }

  /// A frame header announcing `length` bytes, without them: a frame that is never finished, or
  /// one longer than any request may be.
  public static func header(announcing length: UInt32) -> [UInt8] {
    (0..<Frame.headerSize).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
  }

  /// Reads one reply and returns its errno (0 for success), or nil if the kernel closed the
  /// session.
  public func readReplyErrno() throws -> Int32? {
    let bytes: [UInt8]
    do { bytes = try connection.receive() } catch let error {
      if error.errno == ECONNRESET { return nil }
      throw TestSupport.Failure("recv: \(error)")
    }
    return try Reply.decode(bytes).error?.rawValue ?? 0
  }
}
