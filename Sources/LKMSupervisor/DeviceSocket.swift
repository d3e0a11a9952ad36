// The device: lkmd's listening Unix-domain socket. Making it never destroys anything: the
// directory is created (0700) only if missing, an existing directory is used as it is (or
// refused), and the only file ever removed is a stale socket of our own that no lkmd answers.
import Glibc
import LKMDevice

enum DeviceSocket {
  /// Creates the socket at `path` (mode 0600) and listens on it.
  ///
  /// - Throws: ``SupervisorError`` when the directory cannot be made or is unsafe to use (not
  ///   a directory, someone else's, writable by others without the sticky bit), when the path
  ///   exists and is not a socket, or when another lkmd serves it.
  static func listen(at path: String) throws(SupervisorError) -> Int32 {
    let components = path.split(separator: "/", omittingEmptySubsequences: false)
    let directory = components.dropLast().joined(separator: "/")
    if !directory.isEmpty { try prepareDirectory(directory) }
    try removeStaleSocket(path)
    let fd = socket(
      AF_UNIX,
      Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard fd >= 0 else { throw SupervisorError("socket", errno: errno) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
      close(fd)
      throw SupervisorError("\(path): the device path is too long for a socket")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (i, b) in bytes.enumerated() { raw[i] = b }
      raw[bytes.count] = 0
    }
    let oldMask = umask(0o177)
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    umask(oldMask)
    guard bound == 0 else {
      let e = errno
      close(fd)
      throw SupervisorError(path, errno: e)
    }
    guard Glibc.listen(fd, 128) == 0 else {
      let e = errno
      close(fd)
      unlink(path)
      throw SupervisorError("listen", errno: e)
    }
    return fd
  }

  /// The device's directory: made (0700) if missing; otherwise used as it is, if it is a real
  /// directory owned by this user or root, not writable by others unless sticky.
  static func prepareDirectory(_ directory: String) throws(SupervisorError) {
    var st = stat()
    if lstat(directory, &st) != 0 {
      guard errno == ENOENT else { throw SupervisorError(directory, errno: errno) }
      guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
        throw SupervisorError("cannot create \(directory)", errno: errno)
      }
      guard lstat(directory, &st) == 0 else { throw SupervisorError(directory, errno: errno) }
    }
    guard (st.st_mode & S_IFMT) == S_IFDIR else {
      throw SupervisorError("\(directory) is not a directory")
    }
    guard st.st_uid == getuid() || st.st_uid == 0 else {
      throw SupervisorError(
        "\(directory) belongs to uid \(st.st_uid): choose a device path in a directory of your own")
    }
    if st.st_mode & 0o022 != 0 && st.st_mode & S_ISVTX == 0 {
      throw SupervisorError(
        "\(directory) is writable by others: choose a device path in a private directory")
    }
  }

  /// Removes what is at `path` only if it is a socket no lkmd answers on.
  static func removeStaleSocket(_ path: String) throws(SupervisorError) {
    var st = stat()
    guard lstat(path, &st) == 0 else {
      if errno == ENOENT { return }
      throw SupervisorError(path, errno: errno)
    }
    guard (st.st_mode & S_IFMT) == S_IFSOCK else {
      throw SupervisorError("\(path) exists and is not a socket: lkmd will not replace it")
    }
    let probe: SocketConnection
    do { probe = try SocketConnection.connect(to: path) } catch {
      guard error.errno == ECONNREFUSED else {
        throw SupervisorError("\(path): cannot tell whether another lkmd serves it: \(error)")
      }
      guard unlink(path) == 0 || errno == ENOENT else {
        throw SupervisorError("cannot remove the stale socket \(path)", errno: errno)
      }
      return
    }
    probe.close()
    throw SupervisorError("\(path): another lkmd is serving it")
  }
}
