import Foundation
import Glibc
import LKMInterface
import TestSupport
import Testing

// The device as clients see it: exclusive sessions (a second client waits, a non-blocking one
// gets EBUSY), clients that disconnect mid-upload, send malformed frames or say nothing, and
// objects over the size limit. lkmd keeps serving through all of them.

@Suite("kernel: the device under several clients")
struct KernelDeviceTests {
  @Test("a second client waits while a session is held, then is served")
  func secondClientWaits() throws {
    try withKernel { k in
      let holder = try RawDeviceClient(path: k.device)
      try holder.write(RawDeviceClient.hello())
      #expect(try holder.readReplyErrno() == 0)

      let waiting = try k.start("modstat", [])
      usleep(600_000)
      #expect(waiting.isRunning, "modstat did not wait for the held session")
      // A non-blocking open gets EBUSY at once (OpenBSD's O_NONBLOCK open of a held /dev/lkm).
      let impatient = try RawDeviceClient(path: k.device)
      try impatient.write(RawDeviceClient.hello(nonblocking: true))
      #expect(try impatient.readReplyErrno() == 16)

      // The holder can still use its session, then lets go.
      try holder.write(RawDeviceClient.stat(id: 0))
      #expect(try holder.readReplyErrno() == 22)
      holder.close()
      let result = waiting.wait()
      expectRun(result, 0, stdout: ModstatListing.header)
      #expect(result.seconds >= 0.5)
    }
  }

  @Test("a modstat during a slow system call waits for it, then succeeds")
  func concurrentWithSlowCall() throws {
    let object = try KernelFixtures.object("misbehaving/slowcall.c")
    try withKernel(["--host-symbols"]) { k in
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      let slow = try k.start("lkmctl", ["syscall", "210", "1000"])
      #expect(k.console(endingWith: "slowcall: sleeping 1000 ms\n").hasSuffix("ms\n"))
      let stat = try k.run("modstat")
      let call = slow.wait()
      expectRun(call, 0, stdout: "retval = 1000\n")
      #expect(
        ModstatListing(stat.stdout).masked == ModstatListing.header
          + modstatRow("SYSCALL", 0, 210, "slowcall"))
      #expect(stat.status == 0 && stat.stderr.isEmpty)
      #expect(stat.seconds >= 0.5, "modstat took \(stat.seconds) s during a 1 s system call")
      #expect(call.seconds >= 1.0)
    }
  }

  @Test("a client that disconnects mid-upload leaves nothing behind")
  func disconnectMidUpload() throws {
    let object = try KernelFixtures.newsyscall()
    let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: object)))
    try withKernel { k in
      let client = try RawDeviceClient(path: k.device)
      try client.write(RawDeviceClient.hello())
      #expect(try client.readReplyErrno() == 0)
      // A load frame announcing the whole object, cut off a third of the way in.
      let frame = RawDeviceClient.frame(
        .load(LoadRequest(inputs: [.init(name: "combined.o", bytes: bytes)], entry: "newsyscall")))
      try client.write(Array(frame.prefix(frame.count / 3)))
      usleep(100_000)
      client.close()

      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
      expectRun(
        try k.run("modload", "-e", "newsyscall", object), 0, stdout: "Module loaded as ID 0\n")
      expectRun(try k.run("lkmctl", "syscall", "210"), 0, stdout: "retval = 0\n")
      #expect(k.standardError == "")
    }
  }

  @Test("malformed requests get an error, silent clients do not block others")
  func malformedAndSilentClients() throws {
    try withKernel { k in
      // Connected but silent, and one stopped inside its hello frame: neither holds the device.
      let silent = try RawDeviceClient(path: k.device)
      let partial = try RawDeviceClient(path: k.device)
      try partial.write(Array(RawDeviceClient.hello().prefix(2)))
      let quick = try k.run("modstat")
      expectRun(quick, 0, stdout: ModstatListing.header)
      #expect(quick.seconds < 5)

      let client = try RawDeviceClient(path: k.device)
      try client.write(RawDeviceClient.hello())
      #expect(try client.readReplyErrno() == 0)
      // Unknown opcode, truncated body, trailing bytes: EINVAL, and the session goes on.
      try client.write(RawDeviceClient.malformedFrame([99]))
      #expect(try client.readReplyErrno() == 22)
      try client.write(RawDeviceClient.malformedFrame([4, 0, 0]))
      #expect(try client.readReplyErrno() == 22)
      try client.write(RawDeviceClient.malformedFrame([6, 1, 2, 3]))
      #expect(try client.readReplyErrno() == 22)
      try client.write(RawDeviceClient.frame(.dmesg(timestamps: false)))
      #expect(try client.readReplyErrno() == 0)
      // A frame longer than any request may be is refused and the session dropped.
      try client.write(RawDeviceClient.header(announcing: UInt32.max))
      #expect(try client.readReplyErrno() == 27)
      #expect(try client.readReplyErrno() == nil)
      client.close()
      silent.close()
      partial.close()
      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
      #expect(k.standardError == "")
    }
  }

  @Test("lkmd does not depend on the signal mask it inherits: watchdog and SIGTERM still work")
  func inheritedSignalMask() throws {
    let object = try KernelFixtures.object("misbehaving/spin.c")
    let kernel = try KernelProcess(["--watchdog", "1"], blocking: [SIGALRM, SIGTERM, SIGINT])
    defer { kernel.stop() }
    let load = try kernel.start("modload", [object]).wait(timeout: 10)
    expectRun(
      load, 14, stderr: "modload: error initializing module: Bad address\n\(oopsHint("modload"))")
    let end = kernel.stop()
    #expect(
      end.status == 0 && !end.signaled,
      "lkmd exited \(end.status)\(end.signaled ? " (signal)" : "")")
  }

  @Test("an object over --object-limit is refused and lkmd keeps serving")
  func objectLimit() throws {
    let big = try KernelFixtures.object("misbehaving/big.c")
    let size = try #require(try FileManager.default.attributesOfItem(atPath: big)[.size] as? Int)
    #expect(size > 200_000)
    try withKernel(["--object-limit", "100000"]) { k in
      // LMRESERV refused: both of OpenBSD's lines (issue 12).
      expectRun(
        try k.run("modload", big), 9,
        stderr:
          "modload: not loading symbols: kernel does not support symbol table loading: File too large\nmodload: can't reserve memory: File too large\n"
      )
      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
      expectRun(
        try k.run("modload", "-e", "newsyscall", KernelFixtures.newsyscall()), 0,
        stdout: "Module loaded as ID 0\n")
    }
  }
}
