import LKMInterface
import Testing

/// `lkmctl dmesg -T`'s pieces that need no kernel: a time per line from the records kept
/// beside the message buffer (memory module code can write), and the messages that carry them.
@Suite("message buffer times")
struct MessageTimesTests {
  typealias Stamp = MessageTimes.Stamp

  @Test("a line takes the time of the write that holds its first byte")
  func lineTimes() {
    let text = Array("a\nbb\nc".utf8)
    #expect(MessageTimes.lineCount(of: text) == 3)
    let stamps = [
      Stamp(at: 102, length: 3, nanoseconds: 2), Stamp(at: 100, length: 2, nanoseconds: 1),
    ]
    // 'c' (position 105) is in no recorded write.
    #expect(MessageTimes.lineTimes(of: text, from: 100, stamps: stamps) == [1, 2, 0])
    // A write of several lines gives them all its time; the first line may have begun before
    // the text does.
    let one = [Stamp(at: 90, length: 20, nanoseconds: 7)]
    #expect(MessageTimes.lineTimes(of: Array("xyz\nw\n".utf8), from: 100, stamps: one) == [7, 7])
  }

  @Test("lines are counted at newlines, a last one without counts, an empty text has none")
  func lineCount() {
    #expect(MessageTimes.lineCount(of: []) == 0)
    #expect(MessageTimes.lineCount(of: Array("\n".utf8)) == 1)
    #expect(MessageTimes.lineCount(of: Array("a\n\nb".utf8)) == 3)
    #expect(MessageTimes.lineCount(of: Array("a\r\nb\r\n".utf8)) == 2)
  }

  @Test("any records, forged included, give one time per line and never trap")
  func forgedRecords() {
    var generator = SystemRandomNumberGenerator()
    let edges: [UInt64] = [0, 1, UInt64.max - 1, UInt64.max, 1 << 63]
    for round in 0..<2000 {
      let count = Int.random(in: 0..<64, using: &generator)
      let text: [UInt8] = (0..<count).map { _ in
        UInt8.random(in: 0...3, using: &generator) == 0 ? 0x0A : 0x61
      }
      let from = round % 3 == 0 ? edges.randomElement()! : UInt64.random(in: 0...1000)
      let stamps = (0..<Int.random(in: 0..<8)).map { _ in
        Stamp(
          at: Bool.random() ? edges.randomElement()! : from &+ UInt64.random(in: 0...80),
          length: Bool.random() ? UInt32.random(in: 0...UInt32.max) : UInt32.random(in: 0...20),
          nanoseconds: Int64.random(in: Int64.min...Int64.max))
      }
      let times = MessageTimes.lineTimes(of: text, from: from, stamps: stamps)
      #expect(times.count == MessageTimes.lineCount(of: text))
    }
  }

  @Test("a timed dmesg reply goes through the wire; more times than lines is refused")
  func reply() throws {
    let reply = Reply(.messages(text: "one\ntwo\n", lineTimes: [5, 0]))
    #expect(try Reply.decode(reply.encoded()) == reply)
    #expect(reply.text == "one\ntwo\n")
    let tooMany = Reply(.messages(text: "one\n", lineTimes: [5, 6])).encoded()
    #expect(throws: WireError.self) { try Reply.decode(tooMany) }
    let encoded = reply.encoded()
    for length in 0..<encoded.count {
      #expect(throws: WireError.self) { try Reply.decode(Array(encoded[0..<length])) }
    }
  }

  @Test("dmesg without timestamps is encoded as before (the opcode alone); with, one byte more")
  func request() throws {
    #expect(Request.dmesg(timestamps: false).encoded() == [Opcode.dmesg.rawValue])
    #expect(Request.dmesg(timestamps: true).encoded() == [Opcode.dmesg.rawValue, 1])
    guard case .dmesg(false) = try Request.decode([6], objectLimit: 1 << 20) else {
      Issue.record("[6] is not a plain dmesg")
      return
    }
    guard case .dmesg(true) = try Request.decode([6, 1], objectLimit: 1 << 20) else {
      Issue.record("[6, 1] is not dmesg -T")
      return
    }
    #expect(throws: WireError.self) { try Request.decode([6, 1, 0], objectLimit: 1 << 20) }
  }
}
