import Foundation
import Glibc
import LKMDevice
import LKMInterface
import TestSupport
import Testing

/// A device the test serves on a Unix socket in its own temporary directory: it accepts one
/// client, decodes each request with the product's codec and answers with the next of
/// `replies` (encoded, framed); what it received is kept in ``requests``.
final class FakeDevice: @unchecked Sendable {
  let directory: String
  let path: String
  private let listener: Int32
  private let lock = NSLock()
  private var received: [Request] = []
  private var answers: [[UInt8]]
  private let done = DispatchSemaphore(value: 0)

  init(replies: [[UInt8]]) throws {
    directory = try TestSupport.temporaryDirectory("lkm-fakedev")
    path = directory + "/lkm"
    answers = replies
    listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    unsafe withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, byte) in path.utf8.enumerated() { unsafe raw[i] = byte }
    }
    let bound = unsafe withUnsafePointer(to: &address) {
      unsafe $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        unsafe bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard bound == 0, listen(listener, 1) == 0 else {
      throw TestSupport.Failure("cannot listen on \(path): errno \(errno)")
    }
    Thread { self.serve() }.start()
  }

  convenience init(replies: [Reply]) throws { try self.init(replies: replies.map { $0.encoded() }) }

  deinit {
    close(listener)
    try? FileManager.default.removeItem(atPath: directory)
  }

  /// The requests received, once the client has gone (or after ten seconds).
  var requests: [Request] {
    _ = done.wait(timeout: .now() + 10)
    lock.lock()
    defer { lock.unlock() }
    return received
  }

  private func serve() {
    defer { done.signal() }
    let client = accept(listener, nil, nil)
    guard client >= 0 else { return }
    defer { close(client) }
    var decoder = FrameDecoder(limit: 1 << 20)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = unsafe buffer.withUnsafeMutableBytes {
        unsafe recv(client, $0.baseAddress!, $0.count, 0)
      }
      guard n > 0 else { return }
      decoder.append(buffer[0..<n])
      while let payload = try? decoder.next() {
        guard let request = try? Request.decode(payload, objectLimit: 1 << 20) else { return }
        lock.lock()
        received.append(request)
        let answer = answers.isEmpty ? nil : answers.removeFirst()
        lock.unlock()
        guard let answer else { return }
        let frame = Frame.encode(answer)
        _ = unsafe frame.withUnsafeBytes {
          unsafe send(client, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL))
        }
      }
    }
  }
}

@Suite("the device client, against a device the test serves")
struct DeviceClientTests {
  @Test("the hello goes first, then the request; the reply comes back decoded")
  func helloThenRequest() throws {
    let device = try FakeDevice(replies: [Reply(), Reply(.text("a line\n"))])
    let client = try DeviceClient(path: device.path, write: false, exclusive: false)
    let reply = try client.perform(.dmesg(timestamps: false))
    client.close()
    #expect(reply == Reply(.text("a line\n")))
    let requests = device.requests
    #expect(requests.map(\.opcode) == [.hello, .dmesg])
    guard case .hello(let write, let nonblocking, let exclusive)? = requests.first else {
      Issue.record("no hello: \(requests)")
      return
    }
    #expect(!write && !nonblocking && !exclusive)
  }

  @Test(
    "a refused open is thrown by the first request as the host's errno, call 'open'",
    arguments: [(KernelErrno.EBUSY, EBUSY), (.EACCES, EACCES), (.EPERM, EPERM), (.ENXIO, EIO)])
  func refusedOpen(_ refusal: KernelErrno, _ host: Int32) throws {
    let device = try FakeDevice(replies: [Reply(error: refusal)])
    let client = try DeviceClient(path: device.path, write: true, nonblocking: true)
    let error = #expect(throws: DeviceError.self) { try client.perform(.stat(id: 0, name: nil)) }
    #expect(error?.call == "open")
    #expect(error?.errno == host)
  }

  @Test("with confirm, the refusal is thrown by the initializer")
  func confirmedOpen() throws {
    let device = try FakeDevice(replies: [Reply(error: .EBUSY)])
    let error = #expect(throws: DeviceError.self) {
      _ = try DeviceClient(path: device.path, write: true, nonblocking: true, confirm: true)
    }
    #expect(error?.call == "open" && error?.errno == EBUSY)
    #expect(error?.openBSDText == "Device busy")
  }

  @Test("a reply that does not decode is EPROTO, 'malformed reply: …'")
  func malformedReply() throws {
    let device = try FakeDevice(replies: [Reply().encoded(), [0xff]])
    let client = try DeviceClient(path: device.path, write: true)
    let error = #expect(throws: DeviceError.self) { try client.perform(.ksyms) }
    #expect(error?.call == "recv" && error?.errno == EPROTO)
    #expect(error?.description == "malformed reply: truncated message")
  }

  @Test("a device that closes the session is ECONNRESET, 'the kernel closed the session'")
  func closedSession() throws {
    let device = try FakeDevice(replies: [Reply()])
    let client = try DeviceClient(path: device.path, write: true)
    let error = #expect(throws: DeviceError.self) { try client.perform(.ksyms) }
    #expect(error?.call == "recv" && error?.errno == ECONNRESET)
    #expect(error?.description == "the kernel closed the session")
  }

  @Test("no device at the path: connect's ENOENT, with OpenBSD's text")
  func missingDevice() throws {
    let directory = try TestSupport.temporaryDirectory("lkm-nodev")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let error = #expect(throws: DeviceError.self) {
      _ = try DeviceClient(path: directory + "/lkm", write: true)
    }
    #expect(error?.call == "connect" && error?.errno == ENOENT)
    #expect(error?.openBSDText == "No such file or directory")
  }

  @Test("a path longer than a socket address holds is ENAMETOOLONG, before connecting")
  func longPath() {
    let error = #expect(throws: DeviceError.self) {
      _ = try DeviceClient(path: "/tmp/" + String(repeating: "d", count: 200), write: true)
    }
    #expect(error?.call == "socket" && error?.errno == ENAMETOOLONG)
  }

  @Test(
    "host errnos print OpenBSD's texts, converted by name",
    arguments: [
      (EBUSY, "Device busy"), (ECONNREFUSED, "Connection refused"), (EACCES, "Permission denied"),
      (EPERM, "Operation not permitted"), (ENOTSOCK, "Socket operation on non-socket"),
      (ECONNRESET, "Connection reset by peer"), (ETIMEDOUT, "Operation timed out"),
    ])
  func openBSDTexts(_ errno: Int32, _ text: String) {
    #expect(DeviceError(call: "connect", errno: errno).openBSDText == text)
  }
}
