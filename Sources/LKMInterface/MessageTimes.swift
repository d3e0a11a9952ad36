/// When each line of the message buffer was written (`lkmctl dmesg -T`), from the time records
/// kept beside the buffer: one per write that began a line or held the start of one.
///
/// The records live in memory module code can write; whatever they say, the result has one
/// time per line and nothing else (a line no record covers gets 0).
public enum MessageTimes {
  /// A write to the message buffer: its first byte's stream position (bytes ever written
  /// before it), its length, and when it was made (nanoseconds since the epoch).
  public struct Stamp: Sendable, Equatable {
    public var at: UInt64
    public var length: UInt32
    public var nanoseconds: Int64
    public init(at: UInt64, length: UInt32, nanoseconds: Int64) {
      self.at = at
      self.length = length
      self.nanoseconds = nanoseconds
    }
  }

  /// How many lines `text` holds: one per newline, and a last one without.
  public static func lineCount(of text: [UInt8]) -> Int {
    var n = text.isEmpty ? 0 : 1
    for (i, b) in text.enumerated() where b == 0x0A && i + 1 < text.count { n += 1 }
    return n
  }

  /// The time of each line of `text`, the buffer's bytes from stream position `from`.
  ///
  /// A line's time is that of the write holding its first byte: the record with the greatest
  /// position at or before it, if that record reaches it. The first line may have begun
  /// before `from`; it gets the time of the write holding `from`.
  ///
  /// - Parameters:
  ///   - text: the message buffer's bytes, oldest first.
  ///   - from: the stream position of `text[0]`.
  ///   - stamps: the records, in any order.
  /// - Returns: one time per line of `text` (``lineCount(of:)``), 0 where none is known.
  public static func lineTimes(of text: [UInt8], from: UInt64, stamps: [Stamp]) -> [Int64] {
    let sorted = stamps.filter { $0.length > 0 }.sorted { $0.at < $1.at }
    var times: [Int64] = []
    var next = 0
    var covering: Stamp?
    for i in text.indices where i == 0 || text[i - 1] == 0x0A {
      let (position, overflow) = from.addingReportingOverflow(UInt64(i))
      guard !overflow else {
        times.append(0)
        continue
      }
      while next < sorted.count, sorted[next].at <= position {
        covering = sorted[next]
        next += 1
      }
      if let s = covering, position - s.at < UInt64(s.length) {
        times.append(s.nanoseconds)
      } else {
        times.append(0)
      }
    }
    return times
  }
}
