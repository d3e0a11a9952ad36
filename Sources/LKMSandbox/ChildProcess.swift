// The launcher the sandbox and the supervisor share: a child process spawned with exactly the
// descriptors it needs (posix_spawn: never a fork of this multi-threaded process), watched
// through a pidfd, killed with SIGKILL and reaped once.
internal import CSandbox
import Glibc
import LKMBase
public import LKMInterface

/// What ended a child.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
  case exited(Int32)
  case signaled(Int32)

  /// `exited with status 3`, `killed by SIGSEGV`.
  public var description: String {
    switch self {
    case .exited(let status): "exited with status \(status)"
    case .signaled(let signal): "killed by \(Signals.name(signal))"
    }
  }
}

/// A spawned child process this object owns: killed (SIGKILL) and reaped in deinit if it is
/// still there.
public final class ChildProcess {
  public let pid: Int32
  /// Polls readable once the child has ended (-1 where pidfd_open is missing).
  public let pidfd: Int32
  public private(set) var termination: Termination?

  /// Spawns `path` with `arguments` and descriptors 0..n-1 taken from `descriptors` (-1:
  /// /dev/null); `environment` nil gives an empty environment; `newSession` puts the child
  /// in a session of its own.
  ///
  /// - Throws: ``SandboxError`` naming the program when it cannot be started.
  public init(
    path: String, arguments: [String], descriptors: [Int32], environment: [String]? = nil,
    newSession: Bool = false
  ) throws(SandboxError) {
    var argv: [UnsafeMutablePointer<CChar>?] = unsafe ([path] + arguments).map { unsafe strdup($0) }
    unsafe argv.append(nil)
    var envp: [UnsafeMutablePointer<CChar>?] = unsafe (environment ?? []).map { unsafe strdup($0) }
    unsafe envp.append(nil)
    defer {
      unsafe argv.forEach { unsafe free($0) }
      unsafe envp.forEach { unsafe free($0) }
    }
    let rc = unsafe argv.withUnsafeBufferPointer { a in
      unsafe envp.withUnsafeBufferPointer { e in
        unsafe descriptors.withUnsafeBufferPointer { d in
          unsafe lkmsb_spawn_with(
            path, a.baseAddress!, environment == nil ? nil : e.baseAddress, d.baseAddress!,
            Int32(d.count), newSession ? LKMSB_SPAWN_SETSID : 0)
        }
      }
    }
    guard rc > 0 else { throw SandboxError("cannot run '\(path)'", errno: -rc) }
    pid = rc
    pidfd = lkmsb_pidfd_open(rc)
  }

  deinit {
    if termination == nil {
      kill()
      _ = wait()
    }
    if pidfd >= 0 { close(pidfd) }
  }

  /// Sends SIGKILL (the pid cannot have been reused: the child is reaped only here).
  public func kill(_ signal: Int32 = Signals.SIGKILL) {
    if termination == nil { _ = Glibc.kill(pid, signal) }
  }

  /// Reaps the child if it has ended; its termination, or nil while it runs.
  public func poll() -> Termination? {
    if let termination { return termination }
    var code: Int32 = 0
    var status: Int32 = 0
    guard unsafe lkmsb_try_reap(pid, &code, &status) == 1 else { return nil }
    termination = code == CLD_EXITED ? .exited(status) : .signaled(status)
    return termination
  }

  /// Waits for the child to end and reaps it.
  public func wait() -> Termination {
    if let termination { return termination }
    var status: Int32 = 0
    while unsafe waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signal = status & 0x7f
    let result: Termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    termination = result
    return result
  }

  /// Waits up to `milliseconds` for the child to end; its termination, or nil if it still runs.
  public func wait(milliseconds: Int) -> Termination? {
    if let termination { return termination }
    if pidfd >= 0 {
      guard ChildProcess.readable(pidfd, within: milliseconds) else { return nil }
      return poll() ?? wait()
    }
    let deadline = monotonicNanoseconds() + UInt64(milliseconds) * 1_000_000
    while monotonicNanoseconds() < deadline {
      if let t = poll() { return t }
      usleep(1000)
    }
    return poll()
  }

  /// Whether `fd` becomes readable within `milliseconds` (EINTR retried, time kept).
  public static func readable(_ fd: Int32, within milliseconds: Int) -> Bool {
    let deadline = monotonicNanoseconds() + UInt64(max(0, milliseconds)) * 1_000_000
    while true {
      let now = monotonicNanoseconds()
      let left =
        now >= deadline ? 0 : Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max)))
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let n = unsafe Glibc.poll(&p, 1, left)
      if n > 0 { return true }
      if n == 0 { return false }
      if errno != EINTR { return true }
    }
  }

  /// A socket pair (AF_UNIX, SOCK_STREAM, close-on-exec): the channel to a child.
  public static func socketPair() throws(SandboxError) -> (Int32, Int32) {
    var fds: [Int32] = [-1, -1]
    guard unsafe lkmsb_socketpair(&fds) == 0 else { throw SandboxError("socketpair", errno: errno) }
    return (fds[0], fds[1])
  }

  /// A memory file (memfd, close-on-exec).
  public static func memoryFile(_ name: String) throws(SandboxError) -> Int32 {
    let fd = unsafe lkmsb_memfd(name)
    guard fd >= 0 else { throw SandboxError("memfd_create", errno: errno) }
    return fd
  }
}
