import Foundation
import Glibc
import TestSupport
import Testing

/// `lkmctl dmesg -T` (issue 12, item 4): each line with when it was written, from records kept
/// beside the message buffer in the memory the supervisor shares with the kernel process; plain
/// `lkmctl dmesg` unchanged; and a module that scribbles over the records breaks neither.
@Suite("dmesg timestamps")
struct DmesgTimestampTests {
  /// `lkmctl dmesg -T` in time zone `zone`, which must succeed.
  static func stamped(_ k: KernelProcess, zone: String = "UTC") throws -> String {
    var environment = k.environment
    environment["TZ"] = zone
    let run = try ToolProcess(
      TestSupport.product("lkmctl"), ["dmesg", "-T"], environment: environment
    )
    .wait()
    guard run.status == 0, run.stderr.isEmpty else {
      throw TestSupport.Failure("lkmctl dmesg -T failed: \(run)")
    }
    return run.stdout
  }

  /// Each line of -T output: its time (seconds since the epoch, read back in UTC), or nil when
  /// it has none, and the line as plain dmesg prints it.
  static func lines(_ output: String) -> [(time: Int?, text: String)] {
    output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
      guard
        let match = line.wholeMatch(
          of: #/\[([A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d -?\d+)\] (.*)/#)
      else { return (nil, String(line)) }
      return (seconds(String(match.1)), String(match.2))
    }
  }

  /// `Wed Dec  2 14:05:09 2026` read as UTC: seconds since the epoch.
  static func seconds(_ text: String) -> Int? {
    let months = [
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    let fields = text.split(separator: " ")
    guard fields.count == 5, let month = months.firstIndex(of: String(fields[1])),
      let day = Int32(fields[2]), let year = Int32(fields[4])
    else { return nil }
    let clock = fields[3].split(separator: ":").compactMap { Int32($0) }
    guard clock.count == 3 else { return nil }
    var tm = unsafe tm()
    unsafe tm.tm_year = year - 1900
    unsafe tm.tm_mon = Int32(month)
    unsafe tm.tm_mday = day
    unsafe tm.tm_hour = clock[0]
    unsafe tm.tm_min = clock[1]
    unsafe tm.tm_sec = clock[2]
    return unsafe Int(timegm(&tm))
  }

  @Test("-T puts when each line was written before it; without -T the text is as before")
  func timestamps() throws {
    let object = try KernelFixtures.object("hello/hello.c")
    let before = Int(Date().timeIntervalSince1970)
    try withKernel { k in
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      usleep(1_200_000)
      expectRun(try k.run("modunload", "-n", "hello"), 0)
      let plain = try k.dmesg()
      let output = try Self.stamped(k)
      let after = Int(Date().timeIntervalSince1970)
      let lines = Self.lines(output)
      // The same lines, each with a time of this test's run.
      #expect(lines.map(\.text).joined(separator: "\n") + "\n" == plain, "\(output)")
      for line in lines {
        let time = try #require(line.time, "no time: \(line.text)")
        #expect(time >= before && time <= after, "\(line)")
      }
      // A line's time is when it was written, not when the buffer was read.
      let loaded = try #require(lines.first { $0.text.hasPrefix("hello: loading") }?.time)
      let unloaded = try #require(lines.first { $0.text.hasPrefix("hello: unloading") }?.time)
      #expect(unloaded >= loaded + 1, "\(output)")
      // In local time: TZ decides the hour (a POSIX zone, so that no tz database is needed).
      let tokyo = Self.lines(try Self.stamped(k, zone: "JST-9"))
      let first = try #require(tokyo.first?.time)
      #expect((first - (lines.first?.time ?? 0) + 86_400) % 86_400 == 9 * 3600, "\(tokyo.first!)")
    }
  }

  @Test("the time records survive a kernel reboot, as the message buffer does")
  func survivesReboot() throws {
    let object = try KernelFixtures.object("hello/hello.c")
    let libcExit = try KernelFixtures.object(
      "containment/libc.c", as: "libc_exit", defines: ["LIBC_EXIT"])
    try withKernel(["--host-symbols"]) { k in
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      let first = Self.lines(try Self.stamped(k)).filter { $0.text.hasPrefix("hello: loading") }
      let load = try k.run("modload", "-e", "libc_lkmentry", libcExit)
      #expect(load.status == 14 && load.stderr.contains("kernel panicked"), "\(load)")
      let after = Self.lines(try Self.stamped(k))
      let again = after.filter { $0.text.hasPrefix("hello: loading") }
      #expect(again.count == 1 && again.map(\.time) == first.map(\.time), "\(after)")
      let panic = try #require(after.first { $0.text.hasPrefix("panic: kernel process") })
      #expect(panic.time != nil)
    }
  }

  @Test("a module that overwrites the time records breaks neither dmesg nor dmesg -T")
  func scribbledRecords() throws {
    let hello = try KernelFixtures.object("hello/hello.c")
    let scribble = try KernelFixtures.object("containment/msgscribble.c")
    let before = Int(Date().timeIntervalSince1970)
    try withKernel(["--host-symbols"]) { k in
      expectRun(try k.run("modload", hello), 0, stdout: "Module loaded as ID 0\n")
      // It finds the shared memory, fills every record with noise, forges records whose check
      // word matches (longer than the buffer, past the last position, before 1970, not yet
      // written) and moves the record counter near its end.
      expectRun(try k.run("modload", scribble), 0, stdout: "Module loaded as ID 1\n")
      expectRun(try k.run("modunload", "-n", "hello"), 0)
      let plain = try k.dmesg()
      let output = try Self.stamped(k)
      let lines = Self.lines(output)
      #expect(lines.map(\.text).joined(separator: "\n") + "\n" == plain, "\(output)")
      let after = Int(Date().timeIntervalSince1970)
      // What was written after the scribbling has its true time.
      for text in ["msgscribble: done", "hello: unloading"] {
        let line = try #require(lines.first { $0.text.hasPrefix(text) }, "\(output)")
        let time = try #require(line.time, "\(line)")
        #expect(time >= before && time <= after, "\(line)")
      }
      // And the kernel goes on: a new module loads.
      expectRun(try k.run("modload", hello), 0, stdout: "Module loaded as ID 0\n")
    }
  }
}
