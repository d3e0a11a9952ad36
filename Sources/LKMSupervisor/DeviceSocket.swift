// The device: lkmd's listening Unix-domain socket. Making it never destroys anything: the
// directory is created (0700) only if missing, an existing directory is used as it is (or
// refused), and the only file ever removed is a stale socket of our own that no lkmd answers.
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
    let fd: Int32
    do { fd = try system_unixStreamSocket() } catch {
      throw SupervisorError("socket", errno: error.rawValue)
    }
    guard path.utf8.count <= system_unixPathLimit else {
      system_close(fd)
      throw SupervisorError("\(path): the device path is too long for a socket")
    }
    let oldMask = system_umask(0o177)
    do { try system_bind(fd, unixPath: path) } catch {
      system_umask(oldMask)
      system_close(fd)
      throw SupervisorError(path, errno: error.rawValue)
    }
    system_umask(oldMask)
    do { try system_listen(fd, 128) } catch {
      system_close(fd)
      try? system_unlink(path)
      throw SupervisorError("listen", errno: error.rawValue)
    }
    return fd
  }

  /// The device's directory: made (0700) if missing; otherwise used as it is, if it is a real
  /// directory owned by this user or root, not writable by others unless sticky.
  static func prepareDirectory(_ directory: String) throws(SupervisorError) {
    let st: FileStatus
    do { st = try system_lstat(directory) } catch {
      guard error == .ENOENT else { throw SupervisorError(directory, errno: error.rawValue) }
      do { try system_mkdir(directory, 0o700) } catch {
        guard error == .EEXIST else {
          throw SupervisorError("cannot create \(directory)", errno: error.rawValue)
        }
      }
      do { st = try system_lstat(directory) } catch {
        throw SupervisorError(directory, errno: error.rawValue)
      }
    }
    guard st.isDirectory else {
      throw SupervisorError("\(directory) is not a directory")
    }
    guard st.uid == system_getuid() || st.uid == 0 else {
      throw SupervisorError(
        "\(directory) belongs to uid \(st.uid): choose a device path in a directory of your own")
    }
    if st.permissions & 0o022 != 0 && !st.isSticky {
      throw SupervisorError(
        "\(directory) is writable by others: choose a device path in a private directory")
    }
  }

  /// Removes what is at `path` only if it is a socket no lkmd answers on.
  static func removeStaleSocket(_ path: String) throws(SupervisorError) {
    let st: FileStatus
    do { st = try system_lstat(path) } catch {
      if error == .ENOENT { return }
      throw SupervisorError(path, errno: error.rawValue)
    }
    guard st.isSocket else {
      throw SupervisorError("\(path) exists and is not a socket: lkmd will not replace it")
    }
    let probe: SocketConnection
    do { probe = try SocketConnection.connect(to: path) } catch {
      guard Errno(rawValue: error.errno) == .ECONNREFUSED else {
        throw SupervisorError("\(path): cannot tell whether another lkmd serves it: \(error)")
      }
      do { try system_unlink(path) } catch {
        guard error == .ENOENT else {
          throw SupervisorError("cannot remove the stale socket \(path)", errno: error.rawValue)
        }
      }
      return
    }
    probe.close()
    throw SupervisorError("\(path): another lkmd is serving it")
  }
}
