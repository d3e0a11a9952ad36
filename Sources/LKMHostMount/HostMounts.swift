// Host mounts' life outside their server: starting lkm-mount and waiting until its FUSE mount is
// in place, finding the records of those running, and ending them (a kernel unmount, lkmd
// stopping, a kernel reboot, the stale mount of a killed lkmd). The only file that spawns
// lkm-mount or unmounts host directories.
internal import Glibc
import LKMBase

/// A host mount that could not be made or found.
public struct HostMountError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

public enum HostMounts {
  /// The folder of the records: `host-mounts` next to the device socket.
  public static func directory(device: String) -> String {
    let parts = device.split(separator: "/", omittingEmptySubsequences: false).dropLast()
    let parent = parts.joined(separator: "/")
    return (parent.isEmpty ? (device.hasPrefix("/") ? "" : ".") : parent) + "/host-mounts"
  }

  /// Every record there, sorted by pid.
  public static func records(device: String) -> [HostMountRecord] {
    let folder = directory(device: device)
    guard let dir = unsafe opendir(folder) else { return [] }
    defer { unsafe closedir(dir) }
    var list: [HostMountRecord] = []
    while let entry = unsafe readdir(dir) {
      let name = unsafe withUnsafeBytes(of: entry.pointee.d_name) { raw in
        unsafe String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
      }
      guard Int32(name) != nil else { continue }
      let file = folder + "/" + name
      if let text = readText(file), let record = HostMountRecord(parsing: text, file: file) {
        list.append(record)
      }
    }
    return list.sorted { $0.pid < $1.pid }
  }

  /// Writes `record` as `host-mounts/PID` (the folder made 0700 if missing); sets its file.
  public static func save(_ record: inout HostMountRecord, device: String) throws(HostMountError) {
    let folder = directory(device: device)
    if unsafe mkdir(folder, 0o700) != 0 && errno != EEXIST {
      throw HostMountError(unsafe "\(folder): \(String(cString: strerror(errno)))")
    }
    let file = folder + "/\(record.pid)"
    let temporary = file + ".new"
    let fd = unsafe open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else {
      throw HostMountError(unsafe "\(temporary): \(String(cString: strerror(errno)))")
    }
    let bytes = Array(record.text.utf8)
    let written = unsafe bytes.withUnsafeBytes { unsafe write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard written == bytes.count, unsafe rename(temporary, file) == 0 else {
      unsafe unlink(temporary)
      throw HostMountError("\(file): cannot write the record")
    }
    record.file = file
  }

  public static func remove(_ record: HostMountRecord) {
    if !record.file.isEmpty { unsafe unlink(record.file) }
  }

  /// The file system type the host's mount table gives `path` (`fuse.lkm`), if it is a mount
  /// point.
  public static func mountType(at path: String) -> String? {
    guard let table = readText("/proc/self/mountinfo") else { return nil }
    var found: String?
    for line in table.split(separator: "\n") {
      // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
      let fields = line.split(separator: " ")
      guard fields.count > 5, unescape(fields[4]) == path,
        let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count
      else { continue }
      found = String(fields[dash + 1])  // the last one mounted there is on top
    }
    return found
  }

  /// Whether `pid` is a live lkm-mount (not a zombie, not a reused pid of another program).
  public static func serverAlive(_ pid: Int32) -> Bool {
    guard pid > 0, let comm = readText("/proc/\(pid)/comm"),
      comm.trimmingSuffix() == "lkm-mount", let stat = readText("/proc/\(pid)/stat"),
      let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
    return state != "Z" && state != "X"
  }

  /// lkm-mount: `$LKM_MOUNT`, else next to the running executable.
  public static func helperPath() -> String {
    if let env = unsafe getenv("LKM_MOUNT"), unsafe env.pointee != 0 {
      return unsafe String(cString: env)
    }
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = unsafe readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return "lkm-mount" }
    let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) + "/lkm-mount"
  }

  /// Starts lkm-mount for `kernelPath` on `hostDirectory` and waits until its FUSE mount is in
  /// place (it has then recorded itself). The server runs on in a session of its own.
  ///
  /// - Parameter fileSystem: the type mounted on `kernelPath` in the kernel (checked by the
  ///   server), or `dev` to export the kernel's /dev.
  /// - Returns: the server's pid.
  /// - Throws: ``HostMountError`` with what the server said (or why it could not start).
  @discardableResult
  public static func start(
    device: String, hostDirectory: String, kernelPath: String, fileSystem: String,
    timeout: Double = 30
  ) throws(HostMountError) -> Int32 {
    let helper = helperPath()
    var pipeFDs: [Int32] = [-1, -1]
    guard unsafe pipe(&pipeFDs) == 0 else {
      throw HostMountError(unsafe "pipe: \(String(cString: strerror(errno)))")
    }
    for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let (readEnd, writeEnd) = (pipeFDs[0], pipeFDs[1])
    defer { close(readEnd) }
    var arguments = [helper, "--device", device, "--ready-fd", "3"]
    if fileSystem == "dev" {
      arguments.append("--dev")
    } else {
      arguments += ["--type", fileSystem]
    }
    arguments += [kernelPath, hostDirectory]
    let pid = spawn(helper, arguments, stderrAndReady: writeEnd)
    close(writeEnd)
    guard pid > 0 else {
      throw HostMountError(unsafe "cannot run '\(helper)': \(String(cString: strerror(-pid)))")
    }
    // Everything the server says until it is ready (or gone): "ready" last when it is.
    var text: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    let deadline = monotonicSeconds() + timeout
    while monotonicSeconds() < deadline {
      var p = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
      let left = Int32(max(1, (deadline - monotonicSeconds()) * 1000))
      if unsafe poll(&p, 1, left) <= 0 { continue }
      let n = unsafe chunk.withUnsafeMutableBytes { unsafe read(readEnd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      text += chunk[0..<n]
    }
    let said = String(decoding: text, as: UTF8.self)
    if said.hasSuffix("ready\n") { return pid }
    kill(pid, SIGTERM)
    var status: Int32 = 0
    unsafe waitpid(pid, &status, 0)
    var message = said.trimmingSuffix()
    for prefix in ["lkm-mount: ", "Error: "] where message.hasPrefix(prefix) {
      message.removeFirst(prefix.count)
    }
    throw HostMountError(message.isEmpty ? "lkm-mount did not start the mount" : message)
  }

  /// Ends the server of `record`: SIGTERM, which makes it unmount and remove its record; after
  /// `wait` seconds one still running is killed (SIGKILL), and the host directory is unmounted
  /// here (lazily) and the record removed. With `wait` 0, only the signal.
  public static func end(_ record: HostMountRecord, wait: Double) {
    let alive = serverAlive(record.pid)
    if alive { kill(record.pid, SIGTERM) }
    guard wait > 0 else { return }
    let deadline = monotonicSeconds() + wait
    while serverAlive(record.pid) && monotonicSeconds() < deadline { usleep(10_000) }
    if serverAlive(record.pid) { kill(record.pid, SIGKILL) }
    var status: Int32 = 0
    _ = unsafe waitpid(record.pid, &status, WNOHANG)  // reaped if it was a child of this process
    if mountType(at: record.hostDirectory)?.hasPrefix("fuse") == true {
      unmountLazily(record.hostDirectory)
    }
    remove(record)
  }

  /// Ends every recorded server `which` selects (see ``end(_:wait:)``, which runs for all at
  /// once); returns the records.
  @discardableResult
  public static func endAll(
    device: String, wait: Double, which: (HostMountRecord) -> Bool = { _ in true }
  ) -> [HostMountRecord] {
    let list = records(device: device).filter(which)
    for record in list where serverAlive(record.pid) { kill(record.pid, SIGTERM) }
    for record in list { end(record, wait: wait) }
    return list
  }

  /// umount2(MNT_DETACH): open files there keep working until closed. Without privilege,
  /// fusermount3 -u -z does it.
  public static func unmountLazily(_ path: String) {
    if unsafe umount2(path, Int32(MNT_DETACH)) == 0 { return }
    let pid = spawn("/usr/bin/fusermount3", ["fusermount3", "-u", "-z", path], stderrAndReady: -1)
    if pid > 0 {
      var status: Int32 = 0
      unsafe waitpid(pid, &status, 0)
    }
  }

  // MARK: Helpers

  /// posix_spawn(path, arguments) with /dev/null as 0 and 1, `stderrAndReady` as 2 and 3
  /// (/dev/null when -1), default signal dispositions and an empty mask; the pid or -errno.
  static func spawn(_ path: String, _ arguments: [String], stderrAndReady fd: Int32) -> Int32 {
    var actions = unsafe posix_spawn_file_actions_t()
    var attributes = posix_spawnattr_t()
    unsafe posix_spawn_file_actions_init(&actions)
    unsafe posix_spawnattr_init(&attributes)
    defer {
      unsafe posix_spawn_file_actions_destroy(&actions)
      unsafe posix_spawnattr_destroy(&attributes)
    }
    unsafe posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    unsafe posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    if fd >= 0 {
      unsafe posix_spawn_file_actions_adddup2(&actions, fd, 2)
      unsafe posix_spawn_file_actions_adddup2(&actions, fd, 3)
    } else {
      unsafe posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    var none = sigset_t()
    var all = sigset_t()
    unsafe sigemptyset(&none)
    unsafe sigfillset(&all)
    unsafe posix_spawnattr_setsigmask(&attributes, &none)
    unsafe posix_spawnattr_setsigdefault(&attributes, &all)
    unsafe posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var argv: [UnsafeMutablePointer<CChar>?] = unsafe arguments.map { unsafe strdup($0) }
    unsafe argv.append(nil)
    defer { unsafe argv.forEach { unsafe free($0) } }
    var pid: pid_t = 0
    let rc = unsafe posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    return rc == 0 ? pid : -rc
  }

  static func readText(_ path: String) -> String? {
    let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = unsafe chunk.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// mountinfo's octal escapes (`\040` for a space).
  static func unescape(_ field: Substring) -> String {
    var out: [UInt8] = []
    var bytes = Array(field.utf8)[...]
    while let b = bytes.popFirst() {
      if b == UInt8(ascii: "\\"), bytes.count >= 3,
        let v = UInt8(String(decoding: bytes.prefix(3), as: UTF8.self), radix: 8)
      {
        out.append(v)
        bytes.removeFirst(3)
      } else {
        out.append(b)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}

extension String {
  func trimmingSuffix() -> String {
    var s = self
    while let last = s.last, last == "\n" || last == " " { s.removeLast() }
    return s
  }
}
