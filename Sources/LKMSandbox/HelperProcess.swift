// The parent's plumbing: spawning lkm-sandbox-child, its pipes and memory files, waiting with a
// timeout, SIGKILL. Every descriptor here is owned by exactly one HelperProcess or Sandbox and
// closed in its deinit.

internal import CSandbox
import LKMBase
import LKMInterface

/// A running lkm-sandbox-child: the process and the parent's ends of its request and reply
/// pipes.
final class HelperProcess {
  let child: ChildProcess
  var pid: Int32 { child.pid }
  /// Where requests go (the helper's descriptor 0).
  private(set) var requests: Int32
  /// Where replies come from (the helper's descriptor 1).
  let replies: Int32

  /// Spawns `path` with `arguments`, descriptor 2 = `stderrFile`, 3 = `reportFile`.
  init(path: String, arguments: [String], stderrFile: Int32, reportFile: Int32) throws(SandboxError)
  {
    var toChild: [Int32] = [-1, -1]
    var fromChild: [Int32] = [-1, -1]
    guard unsafe lkmsb_pipe(&toChild) == 0 else {
      throw SandboxError("pipe", errno: system_errno())
    }
    guard unsafe lkmsb_pipe(&fromChild) == 0 else {
      system_close(toChild[0])
      system_close(toChild[1])
      throw SandboxError("pipe", errno: system_errno())
    }
    defer {
      system_close(toChild[0])
      system_close(fromChild[1])
    }
    do {
      child = try ChildProcess(
        path: path, arguments: arguments,
        descriptors: [toChild[0], fromChild[1], stderrFile, reportFile])
    } catch {
      system_close(toChild[1])
      system_close(fromChild[0])
      throw error
    }
    requests = toChild[1]
    replies = fromChild[0]
  }

  deinit {
    closeRequests()
    system_close(replies)
    // A fork server ends at the end of its requests: let it, so that it is reaped whole (its
    // namespace's outer process waits for it, and its children's CPU time is counted up the
    // chain); then ChildProcess kills what is left.
    _ = child.wait(milliseconds: 2000)
  }

  func closeRequests() {
    if requests >= 0 {
      system_close(requests)
      requests = -1
    }
  }

  /// Sends one frame (``Frame``). False if the helper is gone.
  func send(_ payload: [UInt8]) -> Bool {
    system_writeAll(requests, Frame.encode(payload))
  }

  /// Reads an `Int32` from the replies; nil at end of file (the helper died).
  func readInt32() -> Int32? {
    guard let bytes = system_readExactly(replies, 4) else { return nil }
    return loadLittleEndian(Int32.self, from: bytes)
  }

  /// Whether `fd` becomes readable within `milliseconds` (EINTR retried, time kept).
  static func readable(_ fd: Int32, within milliseconds: Int) -> Bool {
    ChildProcess.readable(fd, within: milliseconds)
  }

  /// Waits for the helper itself to end (one-shot), killing it after `milliseconds`.
  func waitForExit(killAfter milliseconds: Int) -> (Termination, timedOut: Bool) {
    if let ended = child.wait(milliseconds: milliseconds) { return (ended, false) }
    child.kill()
    return (child.wait(), true)
  }

  static func termination(_ status: Int32) -> Termination {
    let signal = status & 0x7f
    return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
  }
}

/// A memory file (memfd) the parent owns: a child's report file or its stderr.
final class MemoryFile {
  let fd: Int32

  init(name: String) throws(SandboxError) {
    fd = unsafe lkmsb_memfd(name)
    guard fd >= 0 else { throw SandboxError("memfd_create", errno: system_errno()) }
  }

  deinit { system_close(fd) }

  /// Empties the file, then sizes it (zero-filled) and rewinds its shared offset.
  func reset(size: Int) {
    system_ftruncate(fd, 0)
    if size > 0 { system_ftruncate(fd, size) }
    system_rewind(fd)
  }

  /// Sizes the file to `size` once, then zeroes its first `header` bytes.
  func zeroHeader(size: Int, header: Int) {
    if !sized {
      reset(size: size)
      sized = true
      return
    }
    system_pwrite(fd, [UInt8](repeating: 0, count: header), at: 0)
  }
  private var sized = false

  /// Up to `count` bytes from `offset`.
  func read(at offset: Int, count: Int) -> [UInt8] {
    system_pread(fd, count, at: offset)
  }

  /// What was written from offset 0 to the shared offset (a child's stderr), at most `limit`.
  func written(limit: Int) -> [UInt8] {
    let end = system_offset(fd)
    guard end > 0 else { return [] }
    return read(at: 0, count: min(end, limit))
  }
}
