// The parent's plumbing: spawning lkm-sandbox-child, its pipes and memory files, waiting with a
// timeout, SIGKILL. Every descriptor here is owned by exactly one HelperProcess or Sandbox and
// closed in its deinit.

internal import CSandbox
import Glibc

/// What ended a child.
enum Termination: Sendable, Equatable {
  case exited(Int32)
  case signaled(Int32)
}

/// A running lkm-sandbox-child: its pid and the parent's ends of its request and reply pipes.
final class HelperProcess {
  let pid: pid_t
  /// Where requests go (the helper's descriptor 0).
  private(set) var requests: Int32
  /// Where replies come from (the helper's descriptor 1).
  let replies: Int32
  private var reaped = false

  /// Spawns `path` with `arguments`, descriptor 2 = `stderrFile`, 3 = `reportFile`.
  init(path: String, arguments: [String], stderrFile: Int32, reportFile: Int32) throws(SandboxError) {
    var toChild: [Int32] = [-1, -1]
    var fromChild: [Int32] = [-1, -1]
    guard lkmsb_pipe(&toChild) == 0 else { throw SandboxError("pipe", errno: errno) }
    guard lkmsb_pipe(&fromChild) == 0 else {
      close(toChild[0])
      close(toChild[1])
      throw SandboxError("pipe", errno: errno)
    }
    let fds: [Int32] = [toChild[0], fromChild[1], stderrFile, reportFile]
    var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
    argv.append(nil)
    defer { argv.forEach { free($0) } }
    let rc = argv.withUnsafeBufferPointer { a in
      fds.withUnsafeBufferPointer { lkmsb_spawn(path, a.baseAddress!, $0.baseAddress!) }
    }
    close(toChild[0])
    close(fromChild[1])
    guard rc > 0 else {
      close(toChild[1])
      close(fromChild[0])
      throw SandboxError("cannot run '\(path)'", errno: -rc)
    }
    pid = rc
    requests = toChild[1]
    replies = fromChild[0]
  }

  deinit {
    closeRequests()
    close(replies)
    if !reaped {
      kill(pid, SIGKILL)
      var status: Int32 = 0
      _ = waitpid(pid, &status, 0)
    }
  }

  func closeRequests() {
    if requests >= 0 {
      close(requests)
      requests = -1
    }
  }

  /// Sends one frame: `UInt32` length, then the bytes. False if the helper is gone.
  func send(_ payload: [UInt8]) -> Bool {
    var frame = [UInt8]()
    frame.reserveCapacity(payload.count + 4)
    let n = UInt32(payload.count)
    frame += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
    frame += payload
    var done = 0
    while done < frame.count {
      let w = frame.withUnsafeBytes { write(requests, $0.baseAddress! + done, frame.count - done) }
      if w < 0 && errno == EINTR { continue }
      if w <= 0 { return false }
      done += w
    }
    return true
  }

  /// Reads an `Int32` from the replies; nil at end of file (the helper died).
  func readInt32() -> Int32? {
    var bytes = [UInt8](repeating: 0, count: 4)
    var done = 0
    while done < 4 {
      let n = bytes.withUnsafeMutableBytes { read(replies, $0.baseAddress! + done, 4 - done) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return nil }
      done += n
    }
    return Int32(bitPattern: UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
  }

  /// Whether `fd` becomes readable within `milliseconds` (EINTR retried, time kept).
  static func readable(_ fd: Int32, within milliseconds: Int) -> Bool {
    let deadline = monotonicNanoseconds() + UInt64(milliseconds) * 1_000_000
    while true {
      let now = monotonicNanoseconds()
      let left = now >= deadline ? 0 : Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max)))
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let n = poll(&p, 1, left)
      if n > 0 { return true }
      if n == 0 { return false }
      if errno != EINTR { return true }
    }
  }

  /// Waits for the helper itself to end (one-shot), killing it after `milliseconds`.
  func waitForExit(killAfter milliseconds: Int) -> (Termination, timedOut: Bool) {
    var timedOut = false
    let pidfd = lkmsb_pidfd_open(pid)
    if pidfd >= 0 {
      if !HelperProcess.readable(pidfd, within: milliseconds) {
        kill(pid, SIGKILL)
        timedOut = true
      }
      close(pidfd)
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    reaped = true
    return (HelperProcess.termination(status), timedOut)
  }

  static func termination(_ status: Int32) -> Termination {
    let signal = status & 0x7f
    return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
  }
}

func monotonicNanoseconds() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// A memory file (memfd) the parent owns: a child's report file or its stderr.
final class MemoryFile {
  let fd: Int32

  init(name: String) throws(SandboxError) {
    fd = lkmsb_memfd(name)
    guard fd >= 0 else { throw SandboxError("memfd_create", errno: errno) }
  }

  deinit { close(fd) }

  /// Empties the file, then sizes it (zero-filled) and rewinds its shared offset.
  func reset(size: Int) {
    _ = ftruncate(fd, 0)
    if size > 0 { _ = ftruncate(fd, off_t(size)) }
    _ = lseek(fd, 0, SEEK_SET)
  }

  /// Sizes the file to `size` once, then zeroes its first `header` bytes.
  func zeroHeader(size: Int, header: Int) {
    if !sized {
      reset(size: size)
      sized = true
      return
    }
    let zeros = [UInt8](repeating: 0, count: header)
    _ = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress!, header, 0) }
  }
  private var sized = false

  /// Up to `count` bytes from `offset`.
  func read(at offset: Int, count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, count, off_t(offset)) }
    return n > 0 ? Array(bytes[0..<n]) : []
  }

  /// What was written from offset 0 to the shared offset (a child's stderr), at most `limit`.
  func written(limit: Int) -> [UInt8] {
    let end = lseek(fd, 0, SEEK_CUR)
    guard end > 0 else { return [] }
    return read(at: 0, count: min(Int(end), limit))
  }
}
