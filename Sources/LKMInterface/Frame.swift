/// The device's framing, used on every channel of lkm (tool ↔ supervisor, supervisor ↔
/// kernel process, sandbox parent ↔ fork server): a 32-bit little-endian payload length, then
/// the payload.
public enum Frame {
  /// Bytes of the length header.
  public static let headerSize = 4

  /// `payload` with its header in front.
  public static func encode(_ payload: [UInt8]) -> [UInt8] {
    var frame = header(length: payload.count)
    frame.reserveCapacity(headerSize + payload.count)
    frame.append(contentsOf: payload)
    return frame
  }

  /// The header of a payload of `length` bytes.
  public static func header(length: Int) -> [UInt8] {
    let n = UInt32(length)
    return [
      UInt8(truncatingIfNeeded: n), UInt8(truncatingIfNeeded: n >> 8),
      UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 24),
    ]
  }

  /// The payload length a header announces.
  public static func length<C: Collection<UInt8>>(header: C) -> Int where C.Index == Int {
    Int(loadLittleEndian(UInt32.self, from: header))
  }
}

/// A frame whose header announces more than the decoder accepts.
public struct FrameTooLarge: Error, Sendable, Equatable {
  /// What the header announced, and the decoder's limit.
  public var length: Int
  public var limit: Int
}

/// Splits a byte stream into frames in time linear in the bytes received: bytes are appended
/// at the end and consumed from a moving start, and the consumed prefix is dropped only once
/// it is at least half of the buffer (so each byte is moved at most a constant number of
/// times, whatever the sizes of the frames and of the reads).
public struct FrameDecoder: Sendable {
  /// The largest payload accepted.
  public let limit: Int
  private var buffer: [UInt8] = []
  private var start = 0

  public init(limit: Int) { self.limit = limit }

  /// Bytes received and not yet returned as frames.
  public var bufferedBytes: Int { buffer.count - start }

  /// Whether part of a frame has arrived (a request has begun).
  public var isMidFrame: Bool { bufferedBytes > 0 }

  /// Appends received bytes.
  public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    buffer.append(contentsOf: bytes)
  }

  /// Appends received bytes from a raw buffer.
  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    unsafe buffer.append(contentsOf: bytes)
  }

  /// The payload of the next whole frame, or nil until one has arrived.
  ///
  /// - Throws: ``FrameTooLarge`` as soon as a header announces more than ``limit``; the
  ///   decoder then stays in that state (the stream cannot be resynchronised).
  public mutating func next() throws(FrameTooLarge) -> [UInt8]? {
    let available = buffer.count - start
    guard available >= Frame.headerSize else { return nil }
    let length = Frame.length(header: buffer[start..<start + Frame.headerSize])
    guard length <= limit else { throw FrameTooLarge(length: length, limit: limit) }
    guard available - Frame.headerSize >= length else { return nil }
    let first = start + Frame.headerSize
    let payload: [UInt8]
    if start == 0 && first + length == buffer.count && length >= 1 << 16 {
      // The whole buffer is this one large frame: hand it over without copying it again.
      buffer.removeFirst(Frame.headerSize)
      payload = buffer
      buffer = []
    } else {
      payload = Array(buffer[first..<first + length])
      start = first + length
    }
    compact()
    return payload
  }

  /// Whether a whole frame is buffered (``next()`` would return it, or throw).
  public var hasFrame: Bool {
    guard let length = announcedLength else { return false }
    return length > limit || buffer.count - start - Frame.headerSize >= length
  }

  /// The length of the frame in progress, once its header has arrived.
  public var announcedLength: Int? {
    buffer.count - start >= Frame.headerSize
      ? Frame.length(header: buffer[start..<start + Frame.headerSize]) : nil
  }

  private mutating func compact() {
    if start == buffer.count {
      buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
      start = 0
    } else if start >= 4096 && start * 2 >= buffer.count {
      buffer.removeFirst(start)
      start = 0
    }
  }
}
