import ArgumentParser
import Glibc
import LKMDevice
import LKMInterface
import LKMToolSupport

// The subcommands for what device, file system and exec modules add: the kernel's /dev, its
// mounts, and programs run by loadable interpreters. Each opens a read-write session; a
// failure is `lkmctl: PATH: strerror` (OpenBSD's text), exit 1.

/// Performs a request whose failure names `what`.
func service(_ device: DeviceOption, _ request: Request, what: String) -> Reply {
  perform(session(device, write: true), request, what: what)
}

/// An integer as strtol(3) with base 0 reads it (0x hex, leading 0 octal, a sign).
func integer(_ text: String) -> Int64? { BSD.integer(text) }

/// Runs system calls for a subcommand; a failure is `lkmctl: WHAT: strerror`, exit 1 (a lost
/// device as `session` reports it).
func system<T>(
  _ client: DeviceClient, _ what: String, _ body: (DeviceClient) throws(SyscallError) -> T
) -> T {
  do { return try body(client) } catch {
    switch error {
    case .device(let e): BSD.deviceFailed(client.path, e, openFailure: 1)
    case .kernel(_, let text, let oops):
      BSD.warn(what, text)
      if oops { BSD.warnx(Reply.oopsHint) }
      Glibc.exit(1)
    }
  }
}

/// A process session for the file subcommands.
func process(_ device: DeviceOption) -> DeviceClient { session(device, write: true) }

struct Mknod: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mknod",
    abstract: "Make a device node (mknod(2)): c (character) or b (block), MAJOR, MINOR.")
  @OptionGroup var device: DeviceOption
  @Option(name: .short, help: "The node's permissions, in octal.") var mode: String = "600"
  @Argument(help: "The node, /dev/NAME.") var path: String
  @Argument(help: "c or b.") var type: String
  @Argument var major: String
  @Argument var minor: String

  func validate() throws {
    guard type == "c" || type == "b" else {
      throw ValidationError("type must be c or b, not '\(type)'")
    }
    guard let m = integer(major), m >= 0, m <= 255 else {
      throw ValidationError("bad major '\(major)'")
    }
    guard let n = integer(minor), n >= 0, n <= 0xff_ffff else {
      throw ValidationError("bad minor '\(minor)'")
    }
    guard let p = Int64(mode, radix: 8), p >= 0, p <= 0o7777 else {
      throw ValidationError("bad mode '\(mode)'")
    }
    _ = (m, n, p)
  }

  func run() {
    let kind = Int64((type == "b" ? FileKind.blockDevice : .characterDevice).rawValue)
    system(process(device), path) { k throws(SyscallError) in
      try k.mknod(
        path, mode: kind | Int64(mode, radix: 8)!, major: Int32(integer(major)!),
        minor: Int32(integer(minor)!))
    }
  }
}

struct Rm: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm",
    abstract: "Remove a file or a device node (unlink(2)); with -d, an empty directory (rmdir(2)).")
  @OptionGroup var device: DeviceOption
  @Flag(name: .short, help: "Remove a directory.") var directory = false
  @Argument var path: String
  func run() {
    system(process(device), path) { k throws(SyscallError) in
      if directory { try k.rmdir(path) } else { try k.unlink(path) }
    }
  }
}

struct Mkdir: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mkdir", abstract: "Make a directory (mkdir(2)).")
  @OptionGroup var device: DeviceOption
  @Argument var path: String
  func run() { system(process(device), path) { k throws(SyscallError) in try k.mkdir(path) } }
}

struct Mv: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mv", abstract: "Rename FROM to TO (rename(2)).")
  @OptionGroup var device: DeviceOption
  @Argument var from: String
  @Argument var to: String
  func run() {
    system(process(device), from) { k throws(SyscallError) in try k.rename(from, to) }
  }
}

struct Write: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "write",
    abstract:
      "Write STRING (exactly its bytes) to a device or a file, creating a file where the file system can."
  )
  @OptionGroup var device: DeviceOption
  @Option(name: .shortAndLong, help: "The byte offset to write at (pwrite(2)).") var offset: UInt64?
  @Argument var path: String
  @Argument var string: String
  func run() {
    system(process(device), path) { k throws(SyscallError) in
      let fd = try k.open(path, OpenFlags.writeOnly | OpenFlags.create)
      var bytes = Array(string.utf8)
      var at = offset ?? 0
      while !bytes.isEmpty {
        let n = offset == nil ? try k.write(fd, bytes) : try k.pwrite(fd, bytes, offset: at)
        if n <= 0 { break }
        bytes.removeFirst(min(n, bytes.count))
        at += UInt64(n)
      }
      try k.close(fd)
    }
  }
}

/// Reads `path` from `offset`: one read(2) of `count` (default 1 MiB) from a device, which
/// returns what it has (a pipe's reader wakes with the first write); from a file, reads until
/// `count` bytes or the end.
func readPath(_ k: DeviceClient, _ path: String, count: Int?, offset: UInt64?) throws(SyscallError)
  -> [UInt8]
{
  let fd = try k.open(path, OpenFlags.readOnly)
  let status = try? k.stat(path)
  let isDevice = status?.kind?.isDevice ?? false
  let want = count ?? (1 << 20)
  var out: [UInt8] = []
  var at = offset ?? 0
  repeat {
    let chunk = min(want - out.count, 1 << 20)
    if chunk == 0 { break }
    let bytes =
      offset == nil ? try k.read(fd, count: chunk) : try k.pread(fd, count: chunk, offset: at)
    if bytes.isEmpty { break }
    out += bytes
    at += UInt64(bytes.count)
  } while !isDevice && out.count < want
  try k.close(fd)
  return out
}

struct Read: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "read",
    abstract:
      "Read COUNT bytes (default: up to 1 MiB, until the end) of a device or a file to stdout.")
  @OptionGroup var device: DeviceOption
  @Option(name: .shortAndLong, help: "The byte offset to read from (pread(2)).") var offset: UInt64?
  @Argument var path: String
  @Argument var count: Int?
  func validate() throws {
    if let count, count < 0 { throw ValidationError("bad count \(count)") }
  }
  func run() {
    let bytes = system(process(device), path) { k throws(SyscallError) in
      try readPath(k, path, count: count, offset: offset)
    }
    BSD.write(bytes: bytes)
  }
}

struct Cat: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cat", abstract: "Print a file (or a device) to stdout.")
  @OptionGroup var device: DeviceOption
  @Argument var path: String
  func run() {
    let bytes = system(process(device), path) { k throws(SyscallError) in
      try readPath(k, path, count: nil, offset: nil)
    }
    BSD.write(bytes: bytes)
  }
}

struct Ioctl: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ioctl",
    abstract: "ioctl(2) on a device node.",
    discussion: """
      CMD is the command's number (0x hex), OpenBSD's encoding: _IOW('r', 1, int) is 0x80047201. \
      For a command that takes an argument (IOC_IN), ARG is an integer stored in the argument's \
      IOCPARM_LEN bytes, or a string copied into them. For one that returns a value (IOC_OUT), \
      a 4- or 8-byte result is printed as an integer, any other as text. The node is opened \
      read-write, or read-only where writing is refused.
      """)
  @OptionGroup var device: DeviceOption
  @Argument var path: String
  @Argument var command: String
  @Argument var argument: String?

  func validate() throws {
    guard let c = integer(command), c >= 0, c <= Int64(UInt32.max) else {
      throw ValidationError("bad ioctl command '\(command)'")
    }
    _ = c
  }

  func run() {
    let cmd = UInt64(integer(command)!)
    let length = Int((cmd >> 16) & 0x1fff)
    var data = [UInt8](repeating: 0, count: max(length, 8))
    if let argument {
      if let value = integer(argument) {
        unsafe withUnsafeBytes(of: value.littleEndian) { raw in
          for i in 0..<8 { data[i] = unsafe raw[i] }
        }
      } else {
        let bytes = Array(argument.utf8.prefix(max(length, 8) - 1))
        data.replaceSubrange(0..<bytes.count, with: bytes)
      }
    }
    let out: [UInt8] = system(process(device), path) { k throws(SyscallError) in
      let fd: Int32
      do throws(SyscallError) { fd = try k.open(path, OpenFlags.readWrite) } catch {
        guard let e = error.errno, [.EACCES, .EPERM, .EROFS].contains(e) else { throw error }
        fd = try k.open(path, OpenFlags.readOnly)
      }
      let result = try k.ioctl(fd, cmd, data)
      try k.close(fd)
      return result.data
    }
    guard cmd & 0x4000_0000 != 0 else { return }  // IOC_OUT
    switch length {
    case 4 where out.count >= 4:
      let v = loadLittleEndian(Int32.self, from: out)
      BSD.write("\(v)\n", to: 1)
    case 8 where out.count >= 8:
      BSD.write("\(loadLittleEndian(Int64.self, from: out))\n", to: 1)
    default:
      let text = out.prefix(length).prefix { $0 != 0 }
      BSD.write(String(decoding: text, as: UTF8.self) + "\n", to: 1)
    }
  }
}

struct Poll: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "poll",
    abstract: "Wait until a device or a file is readable (-w: writable), by poll(2).",
    discussion:
      "Prints 'readable' (or 'writable') and exits 0 when it is; after TIMEOUT milliseconds (default: no limit) prints 'timed out' and exits 1."
  )
  @OptionGroup var device: DeviceOption
  @Flag(name: .short, help: "Wait until it is writable.") var writable = false
  @Argument var path: String
  @Argument(help: "Milliseconds, -1 for no limit.") var timeout: Int32 = -1

  func run() {
    let events: Int16 = writable ? 0x0004 : 0x0001  // POLLOUT, POLLIN
    let revents: Int16 = system(process(device), path) { k throws(SyscallError) in
      let fd = try k.open(path, writable ? OpenFlags.writeOnly : OpenFlags.readOnly)
      let result = try k.poll([(fd, events)], timeout: timeout)
      try k.close(fd)
      return result.first ?? 0
    }
    if revents & events != 0 {
      BSD.write(writable ? "writable\n" : "readable\n", to: 1)
    } else if revents != 0 {
      BSD.errx(1, "\(path): poll returned 0x\(String(UInt16(bitPattern: revents), radix: 16))")
    } else {
      BSD.write("timed out\n", to: 1)
      Glibc.exit(1)
    }
  }
}

struct Mount: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mount",
    abstract:
      "Mount a file system type on a path (mount(2)); without arguments, list the mounts (getfsstat(2)).",
    discussion:
      "With -t, list the file system types modules have registered (vfsconf): name, type number, mounts."
  )
  @OptionGroup var device: DeviceOption
  @Flag(name: .customShort("t"), help: "List the file system types.") var types = false
  @Option(
    name: .customLong("host"),
    help: ArgumentHelp(
      "Also mount PATH on the host directory DIR through FUSE (lkm-mount).", valueName: "DIR"))
  var host: String?
  @Argument var fstype: String?
  @Argument var path: String?

  func validate() throws {
    if (fstype == nil) != (path == nil) {
      throw ValidationError("give both FSTYPE and PATH, or neither")
    }
    if host != nil && fstype == nil { throw ValidationError("--host needs FSTYPE and PATH") }
  }

  func run() {
    guard let fstype, let path else {
      var out = ""
      if types {
        let reply = service(device, .fileSystems, what: "mount")
        for f in reply.fileSystems { out += "\(f.name) \(f.typeNumber) \(f.mounts)\n" }
      } else {
        let mounts = system(process(device), "mount") { k throws(SyscallError) in
          try k.mountedFileSystems()
        }
        for m in mounts {
          out +=
            "\(m.from) on \(m.on) type \(m.type) (local\(hostMountNote(device, kernelPath: m.on)))\n"
        }
      }
      BSD.write(out, to: 1)
      return
    }
    if let host { return mountOnHost(device, host: host, fstype: fstype, path: path) }
    system(process(device), path) { k throws(SyscallError) in try k.mount(fstype, path) }
  }
}

struct Umount: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "umount",
    abstract: "Unmount the file system mounted on PATH (unmount(2)).")
  @OptionGroup var device: DeviceOption
  @Argument var path: String
  func run() {
    system(process(device), path) { k throws(SyscallError) in try k.unmount(path) }
    endHostMounts(device, kernelPath: path)
  }
}

struct Ls: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls",
    abstract: "List a directory of the kernel's namespace (/, /dev, mounted file systems), sorted.",
    discussion:
      "The entries are what getdents(2) returns, without . and ..; -l adds the mode and the size (MAJOR, MINOR for a device) from lstat(2), as ls -l does."
  )
  @OptionGroup var device: DeviceOption
  @Flag(name: .customShort("l")) var long = false
  @Argument var path: String = "/"

  func run() {
    let out: String = system(process(device), path) { k throws(SyscallError) in
      // A file that is not a directory lists as itself, by its last name.
      let status = try k.lstat(path)
      if !status.isDirectory {
        let name = String(path.split(separator: "/").last ?? Substring(path))
        return long ? Ls.longLine(status, name: name) : name + "\n"
      }
      let fd = try k.open(path, OpenFlags.readOnly)
      let records = try k.readDirectory(fd)
      try k.close(fd)
      var out = ""
      for r in records.sorted(by: { $0.name < $1.name }) where r.name != "." && r.name != ".." {
        guard long else {
          out += r.name + "\n"
          continue
        }
        let full = path.hasSuffix("/") ? path + r.name : path + "/" + r.name
        out += Ls.longLine(try k.lstat(full), name: r.name)
      }
      return out
    }
    BSD.write(out, to: 1)
  }

  /// `drwxr-xr-x        0 name`, `crw-------  29,   0 name`.
  static func longLine(_ s: FileStatus, name: String) -> String {
    let type: Character
    var size = "\(s.size)"
    switch s.kind {
    case .directory: type = "d"
    case .regular: type = "-"
    case .symbolicLink: type = "l"
    case .characterDevice, .blockDevice:
      type = s.kind == .blockDevice ? "b" : "c"
      size = pad("\(s.major),", 4) + " " + pad("\(s.minor)", 3)
    default: type = "?"
    }
    var mode = String(type)
    for shift in [6, 3, 0] {
      let b = (s.mode >> UInt32(shift)) & 7
      mode += (b & 4 != 0 ? "r" : "-") + (b & 2 != 0 ? "w" : "-") + (b & 1 != 0 ? "x" : "-")
    }
    return mode + " " + pad(size, 9) + " " + name + "\n"
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }
}

struct Exec: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "exec",
    abstract: "Run FILE (a host file) through the kernel's execution switch with ARGs.",
    discussion: """
      The file is offered to each loaded execution interpreter; the one that accepts it runs \
      it. Its output goes to stdout and lkmctl exits with its status. No interpreter for the \
      file is 'Exec format error'.
      """)
  @OptionGroup var device: DeviceOption
  @Argument var file: String
  @Argument(parsing: .captureForPassthrough) var arguments: [String] = []

  func run() {
    guard let image = readHostFile(file) else { BSD.err(1, file, hostErrorText(errno)) }
    let client = session(device, write: true)
    let reply: Reply
    do {
      reply = try client.perform(.exec(name: file, image: image, arguments: [file] + arguments))
    } catch {
      BSD.err(1, client.path, error.openBSDText)
    }
    if !reply.text.isEmpty { BSD.write(reply.text, to: 1) }
    if reply.error != nil { BSD.fail(1, file, reply) }
    Glibc.exit(Int32(truncatingIfNeeded: reply.retval) & 0xff)
  }
}

/// A host file's bytes, or nil with errno set.
func readHostFile(_ path: String) -> [UInt8]? {
  let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return nil }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = unsafe chunk.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
    if n < 0 {
      if errno == EINTR { continue }
      return nil
    }
    if n == 0 { return bytes }
    bytes.append(contentsOf: chunk[0..<n])
  }
}

/// OpenBSD's text for a host errno met reading a host file.
func hostErrorText(_ code: Int32) -> String {
  switch code {
  case ENOENT: KernelErrno.ENOENT.text
  case EACCES: KernelErrno.EACCES.text
  case EISDIR: KernelErrno.EISDIR.text
  case ENOTDIR: KernelErrno.ENOTDIR.text
  default: unsafe String(cString: strerror(code))
  }
}

extension BSD {
  /// Writes bytes to stdout as they are.
  static func write(bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
      let n = unsafe bytes.withUnsafeBytes {
        unsafe Glibc.write(1, $0.baseAddress! + done, bytes.count - done)
      }
      if n <= 0 { break }
      done += n
    }
  }
}
