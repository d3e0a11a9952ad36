// lkmd's side of the device: a Unix-domain socket in a directory only its owner can enter,
// served by one thread with poll(2). Sessions are exclusive, as opens of /dev/lkm were.
internal import Glibc
public import LKMKernel

/// Serves the kernel on a Unix-domain socket standing for /dev/lkm.
public final class DeviceServer {
  public struct Limits: Sendable {
    /// The largest module (all inputs of one load) accepted.
    public var objectBytes = 64 << 20
    /// How long a client may take to send the rest of a request once it has begun.
    public var requestSeconds = 10
    /// How long a session may sit idle between requests before it is dropped.
    public var idleSeconds = 600
    public init() {}
  }

  final class Connection {
    let socket: SocketConnection
    let credentials: Credentials
    var buffer: [UInt8] = []
    var expected: Int?
    var requestStarted: Int64 = 0
    var lastActivity: Int64
    /// nil until hello; then whether the session may write.
    var write: Bool?
    var waiting = false
    var closeAfterReply = false
    init(socket: SocketConnection, credentials: Credentials, now: Int64) {
      self.socket = socket
      self.credentials = credentials
      self.lastActivity = now
    }
  }

  public let path: String
  let kernel: Kernel
  let limits: Limits
  /// Runs before each load (see ``Dispatcher``); lkmd --trial-load sets it.
  public var vetLoad: ((LoadRequest) -> LoadRefusal?)?
  let listener: Int32
  var connections: [Connection] = []
  /// The session holding the device.
  var active: Connection?
  /// Sessions waiting for it, in order.
  var queue: [Connection] = []
  let ownUID = getuid()
  nonisolated(unsafe) static var stopRequested: Int32 = 0

  /// Creates the socket at `path`, in a directory created with mode 0700 if missing.
  ///
  /// - Throws: ``DeviceError`` if the directory is not private to this user or another lkmd
  ///   serves the path.
  public init(path: String, kernel: Kernel, limits: Limits = Limits()) throws(DeviceError) {
    self.path = path
    self.kernel = kernel
    self.limits = limits
    let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    if !directory.isEmpty {
      if mkdir(directory, 0o700) != 0 && errno != EEXIST {
        throw DeviceError(call: "mkdir", errno: errno, detail: "\(directory): \(String(cString: strerror(errno)))")
      }
      var st = stat()
      guard lstat(directory, &st) == 0 else { throw DeviceError(call: "stat", errno: errno) }
      guard (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid() else {
        throw DeviceError(call: "stat", errno: EPERM, detail: "\(directory) is not a directory owned by this user")
      }
      if st.st_mode & 0o077 != 0 { chmod(directory, 0o700) }
    }
    // A live lkmd on the path wins; a stale socket is replaced.
    if let probe = try? SocketConnection.connect(to: path) {
      probe.close()
      throw DeviceError(call: "bind", errno: EADDRINUSE, detail: "\(path): another lkmd is serving it")
    }
    unlink(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw DeviceError(call: "socket", errno: errno) }
    var address = try SocketConnection.unixAddress(path)
    let oldMask = umask(0o177)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    umask(oldMask)
    guard bound == 0 else {
      let e = errno
      Glibc.close(fd)
      throw DeviceError(call: "bind", errno: e, detail: "\(path): \(String(cString: strerror(e)))")
    }
    chmod(path, 0o600)
    guard listen(fd, 64) == 0 else {
      let e = errno
      Glibc.close(fd)
      throw DeviceError(call: "listen", errno: e)
    }
    listener = fd
  }

  deinit {
    Glibc.close(listener)
    unlink(path)
  }

  static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
  }

  /// Serves until SIGTERM or SIGINT (see ``installStopHandlers()``).
  public func run() {
    var fds: [pollfd] = []
    while DeviceServer.stopRequested == 0 {
      fds.removeAll(keepingCapacity: true)
      fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
      for c in connections { fds.append(pollfd(fd: c.socket.fd, events: Int16(POLLIN), revents: 0)) }
      let n = poll(&fds, nfds_t(fds.count), 250)
      if n < 0 {
        if errno == EINTR { continue }
        break
      }
      let now = DeviceServer.now()
      let polled = connections  // the connections fds[1...] stand for
      for (i, c) in polled.enumerated() where fds[i + 1].revents != 0 {
        if connections.contains(where: { $0 === c }) { readFrom(c, now: now) }
      }
      if fds[0].revents & Int16(POLLIN) != 0 { acceptClients(now) }
      expire(now)
    }
  }

  /// Makes SIGTERM and SIGINT end ``run()``.
  public static func installStopHandlers() {
    var sa = sigaction()
    sa.__sigaction_handler.sa_handler = { _ in DeviceServer.stopRequested = 1 }
    sigemptyset(&sa.sa_mask)
    sa.sa_flags = 0
    sigaction(SIGTERM, &sa, nil)
    sigaction(SIGINT, &sa, nil)
    signal(SIGPIPE, SIG_IGN)
    // A parent may have started lkmd with these blocked (the mask is inherited).
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGINT)
    sigprocmask(SIG_UNBLOCK, &set, nil)
  }

  func acceptClients(_ now: Int64) {
    while true {
      let fd = accept(listener, nil, nil)
      if fd < 0 { return }
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
      // struct ucred { pid_t pid; uid_t uid; gid_t gid; } (SO_PEERCRED = 17 on Linux)
      var cred = (pid: Int32(0), uid: UInt32(0), gid: UInt32(0))
      var length = socklen_t(12)
      guard getsockopt(fd, SOL_SOCKET, 17, &cred, &length) == 0 else {
        Glibc.close(fd)
        continue
      }
      let credentials = Credentials(pid: cred.pid, uid: cred.uid, gid: cred.gid, command: DeviceServer.command(of: cred.pid))
      connections.append(Connection(socket: SocketConnection(fd: fd), credentials: credentials, now: now))
    }
  }

  static func command(of pid: Int32) -> String {
    let fd = open("/proc/\(pid)/comm", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "?" }
    defer { Glibc.close(fd) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 64) }
    guard n > 0 else { return "?" }
    return String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "?"
  }

  func drop(_ c: Connection) {
    c.socket.close()
    connections.removeAll { $0 === c }
    queue.removeAll { $0 === c }
    if active === c {
      active = nil
      grantNext()
    }
  }

  func grantNext() {
    while active == nil, !queue.isEmpty {
      let next = queue.removeFirst()
      next.waiting = false
      active = next
      reply(next, Reply(errno: 0))
    }
  }

  func readFrom(_ c: Connection, now: Int64) {
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = chunk.withUnsafeMutableBytes { recv(c.socket.fd, $0.baseAddress, $0.count, 0) }
      if n == 0 {
        drop(c)
        return
      }
      if n < 0 {
        if errno == EAGAIN || errno == EWOULDBLOCK { break }
        if errno == EINTR { continue }
        drop(c)
        return
      }
      if c.buffer.isEmpty && c.expected == nil { c.requestStarted = now }
      c.buffer.append(contentsOf: chunk[0..<n])
      c.lastActivity = now
      if c.buffer.count > limits.objectBytes + (1 << 20) + 4 { break }
    }
    // Whole frames.
    while true {
      if c.expected == nil {
        guard c.buffer.count >= 4 else { return }
        let length = Int(UInt32(c.buffer[0]) | UInt32(c.buffer[1]) << 8 | UInt32(c.buffer[2]) << 16 | UInt32(c.buffer[3]) << 24)
        guard length <= limits.objectBytes + (1 << 20) else {
          var r = Reply(errno: KernelErrno.EFBIG.rawValue)
          r.text = "request of \(length) bytes is over the limit of \(limits.objectBytes) bytes"
          reply(c, r)
          drop(c)
          return
        }
        c.expected = length
        c.buffer.removeFirst(4)
      }
      guard let length = c.expected, c.buffer.count >= length else { return }
      let payload = Array(c.buffer[0..<length])
      c.buffer.removeFirst(length)
      c.expected = nil
      c.requestStarted = now
      handle(c, payload)
      if !connections.contains(where: { $0 === c }) { return }
    }
  }

  func expire(_ now: Int64) {
    for c in connections {
      let midRequest = c.expected != nil || !c.buffer.isEmpty
      if midRequest && now - c.requestStarted > Int64(limits.requestSeconds) * 1000 {
        drop(c)
      } else if c.write == nil && !c.waiting && now - c.lastActivity > Int64(limits.requestSeconds) * 1000 {
        drop(c)  // never said hello
      } else if active === c && now - c.lastActivity > Int64(limits.idleSeconds) * 1000 {
        drop(c)
      }
    }
  }

  func reply(_ c: Connection, _ r: Reply) {
    // Replies are small except dmesg and ksyms; a client that does not read them is dropped.
    let payload = r.encoded()
    var frame = [UInt8]()
    withUnsafeBytes(of: UInt32(payload.count).littleEndian) { frame.append(contentsOf: $0) }
    frame.append(contentsOf: payload)
    var done = 0
    let deadline = DeviceServer.now() + 5000
    while done < frame.count {
      let n = frame.withUnsafeBytes { send(c.socket.fd, $0.baseAddress! + done, frame.count - done, Int32(MSG_NOSIGNAL)) }
      if n > 0 {
        done += n
        continue
      }
      if n < 0 && (errno == EAGAIN || errno == EINTR) && DeviceServer.now() < deadline {
        var p = pollfd(fd: c.socket.fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&p, 1, 100)
        continue
      }
      drop(c)
      return
    }
  }

  func handle(_ c: Connection, _ payload: [UInt8]) {
    let request: Request
    do {
      request = try Request.decode(payload, objectLimit: limits.objectBytes)
    } catch {
      var r = Reply(errno: error.errno)
      r.text = error.description
      reply(c, r)
      return
    }
    if case .hello(let write, let nonblocking) = request {
      guard c.write == nil else {
        reply(c, Reply(errno: KernelErrno.EINVAL.rawValue))
        return
      }
      if write && !(c.credentials.uid == 0 || c.credentials.uid == ownUID) {
        reply(c, Reply(errno: KernelErrno.EACCES.rawValue))
        drop(c)
        return
      }
      c.write = write
      if active == nil {
        active = c
        reply(c, Reply(errno: 0))
      } else if nonblocking {
        reply(c, Reply(errno: KernelErrno.EBUSY.rawValue))
        drop(c)
      } else {
        c.waiting = true
        queue.append(c)
      }
      return
    }
    guard active === c, let write = c.write else {
      reply(c, Reply(errno: KernelErrno.EBADF.rawValue))
      return
    }
    reply(c, Dispatcher(kernel: kernel, vetLoad: vetLoad).perform(request, write: write, credentials: c.credentials))
  }
}
