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
func integer(_ text: String) -> Int64? {
  var body = Substring(text)
  var negative = false
  if body.hasPrefix("-") || body.hasPrefix("+") {
    negative = body.hasPrefix("-")
    body = body.dropFirst()
  }
  let lower = body.lowercased()
  let magnitude: UInt64?
  if lower.hasPrefix("0x") {
    magnitude = UInt64(lower.dropFirst(2), radix: 16)
  } else if lower.count > 1 && lower.hasPrefix("0") {
    magnitude = UInt64(lower.dropFirst(), radix: 8)
  } else {
    magnitude = UInt64(lower, radix: 10)
  }
  guard let magnitude, !lower.isEmpty else { return nil }
  return negative ? -Int64(bitPattern: magnitude) : Int64(bitPattern: magnitude)
}

struct Mknod: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Make a device node in the kernel's /dev: c (character) or b (block), MAJOR, MINOR.")
  @OptionGroup var device: DeviceOption
  @Argument(help: "The node, /dev/NAME.") var path: String
  @Argument(help: "c or b.") var type: String
  @Argument var major: String
  @Argument var minor: String

  func validate() throws {
    guard type == "c" || type == "b" else {
      throw ValidationError("type must be c or b, not '\(type)'")
    }
    guard let m = integer(major), m >= 0, m <= Int64(Int32.max) else {
      throw ValidationError("bad major '\(major)'")
    }
    guard let n = integer(minor), n >= 0, n <= Int64(Int32.max) else {
      throw ValidationError("bad minor '\(minor)'")
    }
    _ = (m, n)
  }

  func run() {
    let node = DeviceNode(
      kind: type == "b" ? .block : .character, major: Int32(integer(major)!),
      minor: Int32(integer(minor)!))
    _ = service(device, .mknod(path: path, node: node), what: path)
  }
}

struct Rm: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Remove a device node.")
  @OptionGroup var device: DeviceOption
  @Argument var path: String
  func run() { _ = service(device, .remove(path: path), what: path) }
}

struct Write: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Write STRING (exactly its bytes) to a device or a file, creating a file where the file system can."
  )
  @OptionGroup var device: DeviceOption
  @Option(name: .shortAndLong, help: "The byte offset to write at.") var offset: UInt64 = 0
  @Argument var path: String
  @Argument var string: String
  func run() {
    _ = service(device, .write(path: path, data: Array(string.utf8), offset: offset), what: path)
  }
}

struct Read: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Read COUNT bytes (default: up to 1 MiB, until the end) of a device or a file to stdout.")
  @OptionGroup var device: DeviceOption
  @Option(name: .shortAndLong, help: "The byte offset to read from.") var offset: UInt64 = 0
  @Argument var path: String
  @Argument var count: Int?
  func validate() throws {
    if let count, count < 0 { throw ValidationError("bad count \(count)") }
  }
  func run() {
    let reply = service(device, .read(path: path, count: count, offset: offset), what: path)
    BSD.write(bytes: reply.data)
  }
}

struct Cat: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print a file (or a device) to stdout.")
  @OptionGroup var device: DeviceOption
  @Argument var path: String
  func run() {
    let reply = service(device, .read(path: path, count: nil, offset: 0), what: path)
    BSD.write(bytes: reply.data)
  }
}

struct Ioctl: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "ioctl(2) on a device node.",
    discussion: """
      CMD is the command's number (0x hex), OpenBSD's encoding: _IOW('r', 1, int) is 0x80047201. \
      For a command that takes an argument (IOC_IN), ARG is an integer stored in the argument's \
      IOCPARM_LEN bytes, or a string copied into them. For one that returns a value (IOC_OUT), \
      a 4- or 8-byte result is printed as an integer, any other as text.
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
        withUnsafeBytes(of: value.littleEndian) { raw in
          for i in 0..<8 { data[i] = raw[i] }
        }
      } else {
        let bytes = Array(argument.utf8.prefix(max(length, 8) - 1))
        data.replaceSubrange(0..<bytes.count, with: bytes)
      }
    }
    let reply = service(device, .ioctl(path: path, command: cmd, data: data), what: path)
    guard cmd & 0x4000_0000 != 0 else { return }  // IOC_OUT
    let out = reply.data
    switch length {
    case 4 where out.count >= 4:
      let v = Int32(
        bitPattern: UInt32(out[0]) | UInt32(out[1]) << 8 | UInt32(out[2]) << 16 | UInt32(out[3])
          << 24)
      BSD.write("\(v)\n", to: 1)
    case 8 where out.count >= 8:
      var v: UInt64 = 0
      for i in 0..<8 { v |= UInt64(out[i]) << (8 * UInt64(i)) }
      BSD.write("\(Int64(bitPattern: v))\n", to: 1)
    default:
      let text = out.prefix(length).prefix { $0 != 0 }
      BSD.write(String(decoding: text, as: UTF8.self) + "\n", to: 1)
    }
  }
}

struct Mount: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Mount a file system type on a path; without arguments, list the mounts.",
    discussion:
      "With -t, list the file system types modules have registered (vfsconf): name, type number, mounts."
  )
  @OptionGroup var device: DeviceOption
  @Flag(name: .customShort("t"), help: "List the file system types.") var types = false
  @Argument var fstype: String?
  @Argument var path: String?

  func validate() throws {
    if (fstype == nil) != (path == nil) {
      throw ValidationError("give both FSTYPE and PATH, or neither")
    }
  }

  func run() {
    guard let fstype, let path else {
      let reply = service(device, .mounts, what: "mount")
      var out = ""
      if types {
        for f in reply.fileSystems { out += "\(f.name) \(f.typeNumber) \(f.mounts)\n" }
      } else {
        for m in reply.mounts { out += "\(m.type) on \(m.path) type \(m.type) (local)\n" }
      }
      BSD.write(out, to: 1)
      return
    }
    _ = service(device, .mount(type: fstype, path: path), what: path)
  }
}

struct Umount: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Unmount the file system mounted on PATH.")
  @OptionGroup var device: DeviceOption
  @Argument var path: String
  func run() { _ = service(device, .unmount(path: path), what: path) }
}

struct Ls: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List a directory of the kernel's namespace (/, /dev, mounted file systems), sorted.",
    discussion: "-l adds the mode and the size (MAJOR, MINOR for a device), as ls -l does.")
  @OptionGroup var device: DeviceOption
  @Flag(name: .customShort("l")) var long = false
  @Argument var path: String = "/"

  func run() {
    let reply = service(device, .list(path: path, long: long), what: path)
    var out = ""
    for e in reply.entries.sorted(by: { $0.name < $1.name }) {
      out += long ? Ls.longLine(e) : e.name + "\n"
    }
    BSD.write(out, to: 1)
  }

  /// `drwxr-xr-x        0 name`, `crw-------  29,   0 name`.
  static func longLine(_ e: DirectoryEntry) -> String {
    let type: Character
    var size = e.size.map(String.init) ?? "-"
    switch e.kind {
    case .directory: type = "d"
    case .regular: type = "-"
    case .link: type = "l"
    case .other: type = "?"
    case .device(let node):
      type = node.kind == .block ? "b" : "c"
      size = pad("\(node.major),", 4) + " " + pad("\(node.minor)", 3)
    }
    var mode = String(type)
    let bits = e.mode ?? 0
    for shift in [6, 3, 0] {
      let b = (bits >> Int64(shift)) & 7
      mode += (b & 4 != 0 ? "r" : "-") + (b & 2 != 0 ? "w" : "-") + (b & 1 != 0 ? "x" : "-")
    }
    return mode + " " + pad(size, 9) + " " + e.name + "\n"
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }
}

struct Exec: ParsableCommand {
  static let configuration = CommandConfiguration(
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
  let fd = open(path, O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return nil }
  defer { close(fd) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
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
  default: String(cString: strerror(code))
  }
}

extension BSD {
  /// Writes bytes to stdout as they are.
  static func write(bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + done, bytes.count - done) }
      if n <= 0 { break }
      done += n
    }
  }
}
