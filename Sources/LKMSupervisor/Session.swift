import LKMInterface

/// A client connection: what it sent that is not handled yet, what it is owed, and where it
/// stands with the device (OpenBSD's exclusive open of /dev/lkm).
final class Session {
  enum State {
    /// Connected, no hello yet.
    case new
    /// Said hello; waits for the device.
    case waiting
    /// Holds the device.
    case active
    /// A process session (not an open of /dev/lkm): makes system calls beside the others.
    case process
  }

  let fd: Int32
  let credentials: Credentials
  var decoder: FrameDecoder
  var output = OutputBuffer()
  var state = State.new
  /// Whether the session may write (its hello asked for it and it is allowed to).
  var write = false
  /// When the session last sent or was last answered; since when it has had part of a request
  /// and not the whole of it.
  var lastActivity: UInt64
  var frameStarted: UInt64?
  /// Close once the output is written (after a fatal reply).
  var closeAfterOutput = false
  /// A request of this session is with the kernel (its id) or the sandbox.
  var busy = false
  var inFlight: UInt64?

  init(fd: Int32, credentials: Credentials, frameLimit: Int, now: UInt64) {
    self.fd = fd
    self.credentials = credentials
    self.decoder = FrameDecoder(limit: frameLimit)
    self.lastActivity = now
  }

  /// Bytes received and not handled (pipelined requests stay raw in the decoder until each is
  /// handled): what counts against the session's buffer limit.
  var bufferedBytes: Int { decoder.bufferedBytes }

  /// Notes whether part of a request is waiting for the rest (for the request deadline).
  func notePartial(now: UInt64) {
    if decoder.isMidFrame && !decoder.hasFrame {
      if frameStarted == nil { frameStarted = now }
    } else {
      frameStarted = nil
    }
  }

  func reply(_ reply: Reply, now: UInt64) {
    output.append(Frame.encode(reply.encoded()), now: now)
    lastActivity = now
  }

  func replyRaw(_ payload: [UInt8], now: UInt64) {
    output.append(Frame.encode(payload), now: now)
    lastActivity = now
  }
}
