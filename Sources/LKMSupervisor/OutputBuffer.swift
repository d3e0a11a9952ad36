/// Bytes waiting to be written to a non-blocking socket, written as far as the socket takes
/// them; consumed from a moving start so that partial writes cost nothing extra.
struct OutputBuffer {
  private var bytes: [UInt8] = []
  private var start = 0
  /// When the oldest pending byte was queued (for the deadline of a client that does not read).
  private(set) var pendingSince: UInt64?

  var pending: Int { bytes.count - start }
  var isEmpty: Bool { pending == 0 }

  mutating func append(_ frame: [UInt8], now: UInt64) {
    if isEmpty { pendingSince = now }
    bytes.append(contentsOf: frame)
  }

  enum Progress { case drained, partial, failed }

  /// Writes what the socket takes now (never blocks).
  mutating func write(to fd: Int32) -> Progress {
    while start < bytes.count {
      let n: Int
      do { n = try system_send(fd, bytes, from: start) } catch {
        if error == .EINTR { continue }
        if error == .EAGAIN || error == .EWOULDBLOCK { return .partial }
        return .failed
      }
      if n > 0 {
        start += n
        continue
      }
      return .failed
    }
    bytes.removeAll(keepingCapacity: bytes.capacity <= 1 << 20)
    start = 0
    pendingSince = nil
    return .drained
  }
}
