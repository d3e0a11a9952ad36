import Foundation
import Glibc
import TestSupport
import Testing

// Kernel threads and sleeping: requests run side by side, a driver's read sleeps (tsleep) until
// a write wakes it (wakeup), a sleeping request of a client that went away ends (PCATCH), and
// timeout(9) runs module code at hz from the callout thread.

/// Waits until `done` or `seconds` pass; whether `done` became true.
func eventually(_ seconds: Double = 10, _ done: () throws -> Bool) rethrows -> Bool {
  let deadline = Date().addingTimeInterval(seconds)
  while Date() < deadline {
    if try done() { return true }
    usleep(20_000)
  }
  return try done()
}

@Suite("kernel: threads, sleeping and timeouts")
struct KernelSleepTests {
  func loadPipe(_ k: KernelProcess) throws {
    let object = try KernelFixtures.object("pipe/pipe.c")
    expectRun(
      try k.run("modload", "-p", TestSupport.fixture("lkm/pipe/pipe_postinstall.sh"), object), 0,
      stdout: "Module loaded as ID 0\n")
  }

  @Test(
    "a read of the pipe sleeps until a write wakes it; other requests go on meanwhile; the module stays"
  )
  func readerSleepsUntilWritten() throws {
    try withKernel { k in
      try loadPipe(k)
      let reader = try k.start("lkmctl", ["read", "/dev/pipe0"])
      usleep(300_000)
      #expect(reader.isRunning, "the read did not sleep")
      // The kernel serves others while the reader sleeps in the driver.
      #expect(ModstatListing(try k.modstat()).rows.count == 1)
      expectRun(
        try k.run("modunload", "-n", "pipe"), 5,
        stderr:
          "modunload: LMUNLOAD: Device busy\nmodunload: 1 call into the module still in progress\n")
      #expect(
        try k.dmesg().contains(
          "lkm: module 'pipe' (id 0) is in use: 1 call into its code has not returned (asleep in it)\n"
        ))
      expectRun(try k.run("lkmctl", "write", "/dev/pipe0", "hello, pipe"), 0)
      let read = reader.wait(timeout: 10)
      #expect(read.outcome == Outcome(status: 0, stdout: "hello, pipe", stderr: ""))
      expectRun(try k.run("modunload", "-n", "pipe"), 0)
    }
  }

  @Test("poll(2) of the pipe: d_poll records the poller (selrecord), a write wakes it (selwakeup)")
  func pollWakesOnWrite() throws {
    try withKernel { k in
      try loadPipe(k)
      expectRun(try k.run("lkmctl", "poll", "/dev/pipe0", "200"), 1, stdout: "timed out\n")
      expectRun(try k.run("lkmctl", "poll", "-w", "/dev/pipe0", "0"), 0, stdout: "writable\n")
      let poller = try k.start("lkmctl", ["poll", "/dev/pipe0", "20000"])
      usleep(300_000)
      #expect(poller.isRunning, "the poll did not wait")
      expectRun(try k.run("lkmctl", "write", "/dev/pipe0", "x"), 0)
      let polled = poller.wait(timeout: 10)
      #expect(polled.outcome == Outcome(status: 0, stdout: "readable\n", stderr: ""))
      expectRun(try k.run("lkmctl", "poll", "/dev/pipe0", "0"), 0, stdout: "readable\n")
      expectRun(try k.run("lkmctl", "read", "/dev/pipe0"), 0, stdout: "x")
      expectRun(try k.run("modunload", "-n", "pipe"), 0)
    }
  }

  @Test("a writer to a full pipe sleeps until a reader makes room")
  func writerSleepsUntilRoom() throws {
    try withKernel { k in
      try loadPipe(k)
      let text = String(repeating: "a", count: 5000)
      let writer = try k.start("lkmctl", ["write", "/dev/pipe0", text])
      usleep(300_000)
      #expect(writer.isRunning, "the write did not sleep with the pipe full")
      expectRun(
        try k.run("lkmctl", "read", "/dev/pipe0"), 0, stdout: String(repeating: "a", count: 4096))
      expectRun(writer.wait(timeout: 10), 0)
      expectRun(
        try k.run("lkmctl", "read", "/dev/pipe0"), 0, stdout: String(repeating: "a", count: 904))
    }
  }

  @Test("a sleeping read whose client goes away ends (PCATCH), and the module can go")
  func clientGoneInterruptsSleep() throws {
    try withKernel { k in
      try loadPipe(k)
      let reader = try k.start("lkmctl", ["read", "/dev/pipe0"])
      usleep(300_000)
      #expect(reader.isRunning)
      kill(reader.process.processIdentifier, SIGTERM)
      _ = reader.wait(timeout: 10)
      // The sleep ended with EINTR: nothing runs in the module any more.
      #expect(try eventually { try k.run("modunload", "-n", "pipe").status == 0 })
    }
  }

  @Test(
    "timeouts run at hz from the callout thread, wake readers, and are cancelled when a module leaves them"
  )
  func timeouts() throws {
    try withKernel { k in
      let object = try KernelFixtures.object("ticker/ticker.c")
      let postinstall = TestSupport.fixture("lkm/ticker/ticker_postinstall.sh")
      expectRun(
        try k.run("modload", "-p", postinstall, object), 0, stdout: "Module loaded as ID 0\n")
      func count() throws -> Int {
        let out = try k.run("lkmctl", "read", "/dev/ticker0").stdout
        guard let n = Int(out.dropFirst("ticks ".count).dropLast()) else {
          throw TestSupport.Failure("not a count: \(out)")
        }
        return n
      }
      let first = try count()
      usleep(200_000)
      let second = try count()
      // At hz (100), 0.2 s is some 20 ticks; on a loaded machine fewer, never none.
      #expect(second > first + 2, "\(first) then \(second)")
      expectRun(try k.run("modunload", "-n", "ticker"), 0)
      #expect(!(try k.dmesg().contains("pending: cancelled")))
      // A module that leaves its timeout pending: the kernel cancels it.
      let leaving = try KernelFixtures.object(
        "ticker/ticker.c", as: "ticker_leaving", defines: ["LEAVE_PENDING"])
      expectRun(
        try k.run("modload", "-e", "ticker_lkmentry", leaving), 0, stdout: "Module loaded as ID 0\n"
      )
      expectRun(try k.run("modunload", "-n", "ticker"), 0)
      #expect(
        try k.dmesg().contains("lkm: module 'ticker' (id 0) left 1 timeout pending: cancelled\n"))
      // And nothing of it runs any more: the kernel goes on.
      usleep(100_000)
      expectRun(
        try k.run("modload", KernelFixtures.object("hello/hello.c")), 0,
        stdout: "Module loaded as ID 0\n")
    }
  }
}
