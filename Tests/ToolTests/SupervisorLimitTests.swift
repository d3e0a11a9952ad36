import Foundation
import Glibc
import LKMInterface
import TestSupport
import Testing

// The supervisor under load and abuse: pipelined requests, clients that do not read, unfinished
// frames, sessions that hold the device and say nothing; and a device path it must not damage.

/// lkmd's resident memory, from /proc.
func residentKiB(_ pid: Int32) throws -> Int {
  let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
  guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
    let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
  else { throw TestSupport.Failure("no VmRSS for \(pid)") }
  return kib
}

@Suite("supervisor: limits hold under load and abuse")
struct SupervisorLimitTests {
  @Test("50,000 pipelined requests are all answered, in order, and the device is free afterwards")
  func pipelinedFrames() throws {
    try withKernel { k in
      let client = try RawDeviceClient(path: k.device)
      let count = 50_000
      var frames = RawDeviceClient.hello()
      for _ in 0..<count { frames += RawDeviceClient.stat(id: 7) }
      let bytes = frames
      let writer = Thread { try? client.write(bytes) }
      writer.start()
      #expect(try client.readReplyErrno() == 0)
      var answered = 0
      while answered < count, let errno = try client.readReplyErrno() {
        // No module loaded: every stat is EINVAL (OpenBSD's empty-list lookup).
        guard errno == 22 else { break }
        answered += 1
      }
      #expect(answered == count)
      client.close()
      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
    }
  }

  @Test("a client that does not read its replies is dropped and others are served")
  func clientThatDoesNotRead() throws {
    try withKernel { k in
      // Enough in the message buffer that each dmesg reply is large.
      for _ in 0..<4 { _ = try k.run("modload", KernelFixtures.object("misbehaving/nullderef.c")) }
      let hog = try RawDeviceClient(path: k.device)
      try hog.write(RawDeviceClient.hello())
      #expect(try hog.readReplyErrno() == 0)
      // Thousands of dmesg requests, and no reading.
      let request = RawDeviceClient.frame(.dmesg(timestamps: false))
      try hog.write(Array([[UInt8]](repeating: request, count: 4000).joined()))
      let started = Date()
      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
      // Dropped by the reply deadline (5 s), not after all its replies.
      #expect(Date().timeIntervalSince(started) < 30)
      #expect(k.process.isRunning)
    }
  }

  @Test("sixteen connections announcing 64 MiB frames and stalling do not grow lkmd")
  func unfinishedFrames() throws {
    try withKernel { k in
      let before = try residentKiB(k.process.processIdentifier)
      var clients: [RawDeviceClient] = []
      let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
      for _ in 0..<16 {
        let c = try RawDeviceClient(path: k.device)
        try c.write(RawDeviceClient.hello())
        // A load frame of 64 MiB, of which 4 MiB are sent (or as much as the socket takes).
        try c.write(RawDeviceClient.header(announcing: UInt32(64 << 20)))
        _ = fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK)
        for _ in 0..<4 {
          _ = unsafe chunk.withUnsafeBytes {
            unsafe send(c.fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL))
          }
        }
        clients.append(c)
      }
      usleep(500_000)
      let after = try residentKiB(k.process.processIdentifier)
      // The session holding the device may buffer its frame; the fifteen waiting ones 64 KiB
      // each at most.
      #expect(after - before < 16 * 1024, "lkmd grew from \(before) KiB to \(after) KiB")
      clients.forEach { $0.close() }
      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
    }
  }

  @Test("a session that says hello and then nothing loses the device when others wait")
  func idleSession() throws {
    try withKernel(["--idle-timeout", "2"]) { k in
      let idle = try RawDeviceClient(path: k.device)
      try idle.write(RawDeviceClient.hello())
      #expect(try idle.readReplyErrno() == 0)
      let started = Date()
      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
      // The contended limit is one second.
      #expect(Date().timeIntervalSince(started) < 10)
      #expect(try idle.readReplyErrno() == nil, "the idle session was not closed")
    }
  }
}

@Suite("supervisor: the device path is never destructive")
struct DevicePathTests {
  func start(_ device: String) throws -> TestSupport.Result {
    try TestSupport.run(TestSupport.product("lkmd"), ["--device", device])
  }

  @Test("a regular file where the socket goes is refused and left alone")
  func regularFile() throws {
    let directory = try TestSupport.temporaryDirectory("lkm-path")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try "precious\n".write(toFile: directory + "/lkm", atomically: true, encoding: .utf8)
    let run = try start(directory + "/lkm")
    #expect(run.status == 1)
    #expect(
      run.stderr == "lkmd: \(directory)/lkm exists and is not a socket: lkmd will not replace it\n",
      "\(run)")
    #expect(try String(contentsOfFile: directory + "/lkm", encoding: .utf8) == "precious\n")
  }

  @Test(
    "an existing directory keeps its mode: a sticky /tmp-like one is used, a writable one refused")
  func existingDirectories() throws {
    let directory = try TestSupport.temporaryDirectory("lkm-path")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let shared = directory + "/shared"
    unsafe mkdir(shared, 0o777)
    unsafe chmod(shared, 0o1777)
    let kernel = try KernelProcess(device: shared + "/lkm")
    var st = stat()
    unsafe stat(shared, &st)
    #expect(st.st_mode & 0o7777 == 0o1777)
    expectRun(try kernel.run("modstat"), 0, stdout: ModstatListing.header)
    kernel.stop()
    let open = directory + "/open"
    unsafe mkdir(open, 0o777)
    unsafe chmod(open, 0o777)
    let run = try start(open + "/lkm")
    #expect(run.status == 1)
    #expect(run.stderr.hasPrefix("lkmd: \(open) is writable by others"), "\(run)")
    unsafe stat(open, &st)
    #expect(st.st_mode & 0o7777 == 0o777)
  }

  @Test("a stale socket is replaced; a live lkmd's is not")
  func staleAndLiveSockets() throws {
    let first = try KernelProcess()
    let second = try start(first.device)
    #expect(second.status == 1)
    #expect(second.stderr == "lkmd: \(first.device): another lkmd is serving it\n", "\(second)")
    // Killed without cleaning up: its socket stays, and the next lkmd replaces it.
    kill(first.process.processIdentifier, SIGKILL)
    first.process.waitUntilExit()
    let third = try KernelProcess(device: first.device)
    expectRun(try third.run("modstat"), 0, stdout: ModstatListing.header)
    third.stop()
  }
}
