// The supervisor's thin wrappers over the C library: the only file of LKMSupervisor that
// imports Glibc. Each wrapper makes one call (or one fixed sequence) and returns its value or
// throws the host errno; the callers turn that into a ``SupervisorError`` with their message.
import Glibc
import LKMBase

/// A host errno (Linux's numbers), thrown by the wrappers.
struct Errno: Error, Equatable {
  var rawValue: Int32

  static let EINTR = Errno(rawValue: Glibc.EINTR)
  static let EAGAIN = Errno(rawValue: Glibc.EAGAIN)
  static let EWOULDBLOCK = Errno(rawValue: Glibc.EWOULDBLOCK)
  static let ENOENT = Errno(rawValue: Glibc.ENOENT)
  static let EEXIST = Errno(rawValue: Glibc.EEXIST)
  static let ECONNREFUSED = Errno(rawValue: Glibc.ECONNREFUSED)

  /// The errno the last call left.
  static var current: Errno { Errno(rawValue: errno) }
}

/// strerror(3)'s text for `code`.
func system_errorText(_ code: Int32) -> String { unsafe String(cString: strerror(code)) }

// MARK: Processes and identity

/// The corresponding C function is `getpid(2)`.
func system_getpid() -> Int32 { getpid() }

/// The corresponding C function is `getuid(2)`.
func system_getuid() -> UInt32 { getuid() }

/// The corresponding C function is `getgid(2)`.
func system_getgid() -> UInt32 { getgid() }

/// This process's supplementary groups (at most 64); none if they cannot be read.
///
/// The corresponding C function is `getgroups(2)`.
func system_getgroups() -> [UInt32] {
  var groups = [gid_t](repeating: 0, count: 64)
  let n = unsafe getgroups(Int32(groups.count), &groups)
  return n > 0 ? groups.prefix(Int(n)).map { UInt32($0) } : []
}

/// Throws unless `path` may be executed.
///
/// The corresponding C function is `access(2)` with `X_OK`.
func system_checkExecutable(_ path: String) throws(Errno) {
  guard unsafe access(path, X_OK) == 0 else { throw .current }
}

/// Makes SIGTERM and SIGINT call `handler` (and unblocks them: a parent may have started this
/// process with them blocked), and SIGPIPE ignored.
///
/// The corresponding C functions are `sigaction(2)`, `signal(2)` and `sigprocmask(2)`.
func system_handleStopSignals(_ handler: @escaping @convention(c) (Int32) -> Void) {
  var sa = sigaction()
  unsafe sa.__sigaction_handler.sa_handler = handler
  unsafe sigemptyset(&sa.sa_mask)
  sa.sa_flags = 0
  unsafe sigaction(SIGTERM, &sa, nil)
  unsafe sigaction(SIGINT, &sa, nil)
  signal(SIGPIPE, SIG_IGN)
  var set = sigset_t()
  unsafe sigemptyset(&set)
  unsafe sigaddset(&set, SIGTERM)
  unsafe sigaddset(&set, SIGINT)
  unsafe sigprocmask(SIG_UNBLOCK, &set, nil)
}

/// Runs `body` on a new detached thread; false if no thread could be started.
///
/// The corresponding C functions are `pthread_create(3)` and `pthread_detach(3)`.
func system_detachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
  let context = unsafe Unmanaged.passRetained(ThreadBody(body)).toOpaque()
  var thread = pthread_t()
  let rc = unsafe pthread_create(
    &thread, nil,
    { context in
      unsafe Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
      return nil
    }, unsafe context)
  guard rc == 0 else {
    unsafe Unmanaged<ThreadBody>.fromOpaque(context).release()
    return false
  }
  pthread_detach(thread)
  return true
}

private final class ThreadBody: Sendable {
  let body: @Sendable () -> Void
  init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

// MARK: Files

/// What lstat(2) says of a path.
struct FileStatus {
  var isDirectory: Bool
  var isSocket: Bool
  /// The permission bits, set-id and sticky bits included.
  var permissions: UInt32
  var isSticky: Bool { permissions & UInt32(S_ISVTX) != 0 }
  var uid: UInt32
}

/// The corresponding C function is `lstat(2)`.
func system_lstat(_ path: String) throws(Errno) -> FileStatus {
  var st = stat()
  guard unsafe lstat(path, &st) == 0 else { throw .current }
  return FileStatus(
    isDirectory: (st.st_mode & S_IFMT) == S_IFDIR, isSocket: (st.st_mode & S_IFMT) == S_IFSOCK,
    permissions: st.st_mode & ~S_IFMT, uid: st.st_uid)
}

/// The corresponding C function is `mkdir(2)`.
func system_mkdir(_ path: String, _ mode: UInt32) throws(Errno) {
  guard unsafe mkdir(path, mode_t(mode)) == 0 else { throw .current }
}

/// The corresponding C function is `unlink(2)`.
func system_unlink(_ path: String) throws(Errno) {
  guard unsafe unlink(path) == 0 else { throw .current }
}

/// The corresponding C function is `umask(2)`; returns the mask before.
@discardableResult
func system_umask(_ mask: UInt32) -> UInt32 { UInt32(umask(mode_t(mask))) }

/// The file at `path`, read to its end (or until more than `limit` bytes have been read: the
/// read stops at the end of that chunk).
///
/// The corresponding C functions are `open(2)` and `read(2)` (EINTR retried).
func system_readFile(_ path: String, limit: Int = .max) throws(Errno) -> [UInt8] {
  let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { throw .current }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = unsafe chunk.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
    if n < 0 && errno == EINTR { continue }
    if n < 0 { throw .current }
    if n == 0 { return bytes }
    bytes += chunk[0..<n]
    if bytes.count > limit { return bytes }
  }
}

/// Writes `bytes` to a new or emptied file at `path` with `mode`, not following a symbolic
/// link; false if the file cannot be opened or written.
///
/// The corresponding C functions are `open(2)` with `O_NOFOLLOW` and `write(2)`.
func system_writeFile(_ path: String, _ bytes: [UInt8], mode: UInt32) -> Bool {
  let fd = unsafe open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
  guard fd >= 0 else { return false }
  defer { close(fd) }
  return system_writeAll(fd, bytes)
}

/// Writes `text` to standard output in one write(2) (what it takes).
func system_writeStandardOutput(_ text: String) {
  _ = unsafe text.withCString { unsafe write(1, $0, strlen($0)) }
}

/// `seconds` since the epoch as UTC, formatted by strftime(3) `format`.
///
/// The corresponding C functions are `gmtime_r(3)` and `strftime(3)`.
func system_formatUTC(_ seconds: Int, _ format: String) -> String {
  var t = time_t(seconds)
  var tm = unsafe tm()
  unsafe gmtime_r(&t, &tm)
  var buffer = [CChar](repeating: 0, count: 64)
  let n = unsafe strftime(&buffer, buffer.count, format, &tm)
  return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

// MARK: Descriptors

/// The corresponding C function is `close(2)`.
func system_close(_ fd: Int32) { close(fd) }

/// Sets `FD_CLOEXEC` on `fd`.
///
/// The corresponding C function is `fcntl(2)` with `F_SETFD`.
func system_setCloseOnExec(_ fd: Int32) { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

/// Adds `O_NONBLOCK` to `fd`'s status flags.
///
/// The corresponding C function is `fcntl(2)` with `F_SETFL`.
func system_setNonblocking(_ fd: Int32) { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

/// A pipe: its read end, then its write end.
///
/// The corresponding C function is `pipe(2)`.
func system_pipe() throws(Errno) -> (Int32, Int32) {
  var fds: [Int32] = [-1, -1]
  guard unsafe pipe(&fds) == 0 else { throw .current }
  return (fds[0], fds[1])
}

/// Writes one byte to `fd` (what it takes).
///
/// The corresponding C function is `write(2)`.
func system_writeByte(_ fd: Int32, _ byte: UInt8) {
  var byte = byte
  _ = unsafe write(fd, &byte, 1)
}

/// Reads one byte from `fd`; nil at end of file or on an error (EAGAIN included).
///
/// The corresponding C function is `read(2)`.
func system_readByte(_ fd: Int32) -> UInt8? {
  var byte: UInt8 = 0
  return unsafe read(fd, &byte, 1) > 0 ? byte : nil
}

/// Truncates or extends `fd` to `size` bytes.
///
/// The corresponding C function is `ftruncate(2)`.
func system_ftruncate(_ fd: Int32, _ size: Int) throws(Errno) {
  guard ftruncate(fd, off_t(size)) == 0 else { throw .current }
}

/// Maps `size` bytes of `fd` shared, for reading and writing.
///
/// The corresponding C function is `mmap(2)` with `MAP_SHARED`.
func system_mapShared(_ fd: Int32, _ size: Int) throws(Errno) -> UnsafeMutableRawPointer {
  guard let p = unsafe mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0),
    unsafe p != MAP_FAILED
  else {
    throw .current
  }
  return unsafe p
}

/// The corresponding C function is `munmap(2)`.
func system_munmap(_ base: UnsafeMutableRawPointer, _ size: Int) { unsafe munmap(base, size) }

// MARK: Sockets

/// The longest Unix-domain socket path (the terminating NUL not counted).
let system_unixPathLimit = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

/// A Unix-domain stream socket, close-on-exec and non-blocking.
///
/// The corresponding C function is `socket(2)`.
func system_unixStreamSocket() throws(Errno) -> Int32 {
  let fd = socket(
    AF_UNIX,
    Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
  guard fd >= 0 else { throw .current }
  return fd
}

/// Binds `fd` to the Unix-domain path `path` (at most ``system_unixPathLimit`` bytes).
///
/// The corresponding C function is `bind(2)`.
func system_bind(_ fd: Int32, unixPath path: String) throws(Errno) {
  var address = sockaddr_un()
  address.sun_family = sa_family_t(AF_UNIX)
  let bytes = Array(path.utf8)
  precondition(bytes.count <= system_unixPathLimit)
  unsafe withUnsafeMutableBytes(of: &address.sun_path) { raw in
    for (i, b) in bytes.enumerated() { unsafe raw[i] = b }
    unsafe raw[bytes.count] = 0
  }
  let bound = unsafe withUnsafePointer(to: &address) {
    unsafe $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      unsafe bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
    }
  }
  guard bound == 0 else { throw .current }
}

/// The corresponding C function is `listen(2)`.
func system_listen(_ fd: Int32, _ backlog: Int32) throws(Errno) {
  guard listen(fd, backlog) == 0 else { throw .current }
}

/// A connection waiting on `listener`; nil if none (or on an error).
///
/// The corresponding C function is `accept(2)`.
func system_accept(_ listener: Int32) -> Int32? {
  let fd = accept(listener, nil, nil)
  return fd < 0 ? nil : fd
}

/// The peer's pid, uid and gid as it had them when it connected; nil if the system does not say.
///
/// The corresponding C function is `getsockopt(2)` with `SO_PEERCRED`.
func system_peerCredentials(_ fd: Int32) -> (pid: Int32, uid: UInt32, gid: UInt32)? {
  // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (SO_PEERCRED = 17 on Linux)
  var cred = (pid: Int32(0), uid: UInt32(0), gid: UInt32(0))
  var length = socklen_t(12)
  guard unsafe getsockopt(fd, SOL_SOCKET, 17, &cred, &length) == 0 else { return nil }
  return cred
}

/// The peer's supplementary groups as it had them when it connected; nil if the system does
/// not say.
///
/// The corresponding C function is `getsockopt(2)` with `SO_PEERGROUPS` (59 on Linux).
func system_peerGroups(_ fd: Int32) -> [UInt32]? {
  var groups = [UInt32](repeating: 0, count: 1024)
  var length = socklen_t(groups.count * 4)
  let status = unsafe groups.withUnsafeMutableBytes {
    unsafe getsockopt(fd, SOL_SOCKET, 59, $0.baseAddress, &length)
  }
  guard status == 0 else { return nil }
  return Array(groups.prefix(Int(length) / 4))
}

/// Receives what `fd` has into `buffer`, without waiting; the byte count (0 at end of file).
///
/// The corresponding C function is `recv(2)` with `MSG_DONTWAIT`.
func system_receive(_ fd: Int32, into buffer: inout [UInt8]) throws(Errno) -> Int {
  let n = unsafe buffer.withUnsafeMutableBytes {
    unsafe recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT))
  }
  guard n >= 0 else { throw .current }
  return n
}

/// Sends `bytes[start...]` on `fd` as far as it takes them now; the byte count.
///
/// The corresponding C function is `send(2)` with `MSG_NOSIGNAL | MSG_DONTWAIT`.
func system_send(_ fd: Int32, _ bytes: [UInt8], from start: Int) throws(Errno) -> Int {
  let n = unsafe bytes.withUnsafeBytes {
    unsafe send(
      fd, $0.baseAddress! + start, bytes.count - start, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
  }
  guard n >= 0 else { throw .current }
  return n
}

// MARK: poll

/// One descriptor of a ``system_poll(_:timeout:)``: what to wait for, what happened.
struct PollDescriptor {
  var fd: Int32
  var events: PollEvents
  var revents: PollEvents = []
}

struct PollEvents: OptionSet {
  var rawValue: Int16
  static let input = PollEvents(rawValue: Int16(POLLIN))
  static let output = PollEvents(rawValue: Int16(POLLOUT))
  static let hangup = PollEvents(rawValue: Int16(POLLHUP))
  static let error = PollEvents(rawValue: Int16(POLLERR))
}

/// Waits up to `timeout` milliseconds for the events of `descriptors` (a negative fd is left
/// out); how many have events, and their `revents` set.
///
/// The corresponding C function is `poll(2)`.
func system_poll(_ descriptors: inout [PollDescriptor], timeout: Int32) throws(Errno) -> Int {
  var fds = descriptors.map { pollfd(fd: $0.fd, events: $0.events.rawValue, revents: 0) }
  let n = unsafe poll(&fds, nfds_t(fds.count), timeout)
  guard n >= 0 else { throw .current }
  for i in fds.indices { descriptors[i].revents = PollEvents(rawValue: fds[i].revents) }
  return Int(n)
}
