import LKMInterface
import Testing

/// The reply's oops flag (issue 12: fault errors point to the oops): a flags byte after the
/// body, present only when set, so that a reply without an oops is encoded as before.
@Suite("reply: the oops flag")
struct ReplyOopsTests {
  static let bodies: [Reply.Body] = [
    .none, .syscall(retval: 0, output: "hi\n"), .refused(lines: ["why"], output: ""),
    .message(lines: ["the unload hook faulted"], output: ""), .data([1, 2, 3]),
    .exec(ExecResult(status: 0, output: "")),
  ]

  @Test(
    "a reply with an oops is the reply without, plus one byte; both go through", arguments: bodies)
  func roundTrip(_ body: Reply.Body) throws {
    let plain = Reply(error: .EFAULT, body)
    let faulted = Reply(error: .EFAULT, body, oops: true)
    #expect(faulted.encoded() == plain.encoded() + [1])
    #expect(try Reply.decode(plain.encoded()) == plain)
    #expect(try Reply.decode(faulted.encoded()) == faulted)
    #expect(try Reply.decode(faulted.encoded()).oops)
    #expect(!(try Reply.decode(plain.encoded()).oops))
  }

  @Test("unknown flags, a zero flags byte and bytes after the flags are refused")
  func refused() throws {
    let plain = Reply(error: .EFAULT, .syscall(retval: 0, output: "")).encoded()
    for trailer: [UInt8] in [[0], [2], [3], [0xff], [1, 0], [1, 1]] {
      #expect(throws: WireError.self, "\(trailer)") { try Reply.decode(plain + trailer) }
    }
  }
}
