import ArgumentParser
import LKMDevice
import LKMInterface
import LKMToolSupport

/// lkmctl: userland access to what modules add to the kernel.
@main
struct LkmCtl: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lkmctl",
    abstract:
      "Use what modules add to the lkm kernel: system calls, the message buffer, sysctl, symbols, devices, file systems and interpreters.",
    discussion:
      "Results go to stdout (exit 0); a failure prints 'lkmctl: <what>: <strerror>' on stderr (exit 1); with no lkmd on the device, exit 69. See lkmctl(8).",
    subcommands: [
      Syscall.self, Dmesg.self, Sysctl.self, Ksyms.self, Addr.self, ModInfo.self, Mknod.self,
      Rm.self, Mkdir.self, Mv.self, Write.self, Poll.self, Read.self, Ioctl.self, Mount.self,
      Umount.self, Ls.self, Cat.self,
      Exec.self, Crashes.self,
    ])

  static func main() {
    unsafe BSD.progname = "lkmctl"
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.isEmpty {
      // A command is needed: the usage on stderr, exit 1 (ArgumentParser's help would exit 0).
      BSD.write(helpMessage(), to: 2)
      BSD.exit(1)
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
    } catch {
      let code = exitCode(for: error)
      guard code != .success else { exit(withError: error) }
      // Errors prefixed with the tool's name, not ArgumentParser's "Error: ".
      var text = fullMessage(for: error)
      if text.hasPrefix("Error: ") { text.removeFirst(7) }
      BSD.write("lkmctl: \(text)\n")
      BSD.exit(code.rawValue)
    }
  }
}

/// Opens a session; a failure is `lkmctl: DEVICE: strerror`, exit 1 (69 with no lkmd).
func session(_ option: DeviceOption, write: Bool) -> DeviceClient {
  // lkmctl is a process making system calls, not an open of /dev/lkm: it does not wait for
  // modload and the like, and runs beside other lkmctls (a read that sleeps, a write that
  // wakes it).
  BSD.openDevice(option.device, write: write, exclusive: false, openFailure: 1)
}

func perform(_ client: DeviceClient, _ request: Request, what: String) -> Reply {
  let reply: Reply
  do { reply = try client.perform(request) } catch {
    BSD.deviceFailed(client.path, error, openFailure: 1)
  }
  if reply.error != nil { BSD.fail(1, what, reply) }
  return reply
}

struct Syscall: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "syscall",
    abstract: "Run sysent[NUM] with integer (or string) arguments and print retval.",
    discussion:
      "An argument that parses as an integer (decimal, 0x hex) is passed as one; any other is passed as a pointer to a copy of the string."
  )
  @OptionGroup var device: DeviceOption
  @Argument(help: "The system call's number (modstat's Off column for a SYSCALL module).")
  var number: Int32
  /// Everything after NUM, negative numbers included (not options).
  @Argument(parsing: .allUnrecognized) var arguments: [String] = []

  func run() {
    let client = session(device, write: true)
    let args: [SyscallArgument] = arguments.map { text in
      // Decimal or 0x hex, with a sign (a leading 0 is decimal); anything else is a string.
      if let v = BSD.integer(text, octal: false) { return .integer(v) }
      return .string(text)
    }
    let reply: Reply
    do { reply = try client.perform(.syscall(number: number, arguments: args)) } catch {
      BSD.deviceFailed(client.path, error, openFailure: 1)
    }
    if !reply.text.isEmpty { BSD.write(reply.text, to: 1) }
    if reply.error != nil { BSD.fail(1, "syscall \(number)", reply) }
    BSD.write("retval = \(reply.retval)\n", to: 1)
  }
}

struct Dmesg: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dmesg",
    abstract: "Print the kernel message buffer.",
    discussion: """
      With -T, each line begins with when it was written, in local time, as dmesg -T of \
      util-linux prints it: [Wed Dec  2 14:05:09 2026]. A line whose time is not known (its \
      record was overwritten) is printed without one.
      """)
  @OptionGroup var device: DeviceOption
  @Flag(name: .customShort("T"), help: "Print when each line was written, in local time.")
  var timestamps = false

  func run() {
    let reply = perform(
      session(device, write: false), .dmesg(timestamps: timestamps), what: "dmesg")
    guard timestamps, case .messages(let text, let lineTimes) = reply.body else {
      BSD.write(reply.text, to: 1)
      return
    }
    BSD.write(Dmesg.stamped(text, lineTimes), to: 1)
  }

  /// `text` with each line prefixed by its time (`[Wed Dec  2 14:05:09 2026] `), unless 0.
  static func stamped(_ text: String, _ lineTimes: [Int64]) -> String {
    var out: [UInt8] = []
    let bytes = Array(text.utf8)
    out.reserveCapacity(bytes.count + lineTimes.count * 27)
    var line = 0
    for (i, b) in bytes.enumerated() {
      if i == 0 || bytes[i - 1] == 0x0A {
        if line < lineTimes.count, lineTimes[line] != 0 {
          out += Array("[\(localTime(lineTimes[line]))] ".utf8)
        }
        line += 1
      }
      out.append(b)
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// ctime(3)'s form without its newline: `Wed Dec  2 14:05:09 2026`.
  static func localTime(_ nanoseconds: Int64) -> String {
    let (seconds, rest) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
    return system_formatTime(rest < 0 ? seconds - 1 : seconds, "%a %b %e %H:%M:%S %Y", local: true)
  }
}

struct Sysctl: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sysctl",
    abstract: "Read or set the kernel's kern.* variables (__sysctl(2)).",
    discussion:
      "kern.ostype, kern.osrelease, kern.version, kern.securelevel (only rises) and kern.hostname; without NAME, all of them."
  )
  @OptionGroup var device: DeviceOption
  @Argument(help: "NAME to read, NAME=VALUE to set.")
  var setting: String?

  /// The MIB of each name (sys/sysctl.h: CTL_KERN, KERN_*) and whether it is an integer.
  static let names: [(name: String, mib: [Int32], integer: Bool)] = [
    ("kern.ostype", [1, 1], false), ("kern.osrelease", [1, 2], false),
    ("kern.version", [1, 4], false), ("kern.securelevel", [1, 9], true),
    ("kern.hostname", [1, 10], false),
  ]

  func run() {
    var name = setting
    var value: String?
    if let setting, let eq = setting.firstIndex(of: "=") {
      name = String(setting[..<eq])
      value = String(setting[setting.index(after: eq)...])
    }
    let client = session(device, write: value != nil)
    guard let name else {
      var out = ""
      for entry in Sysctl.names {
        out += "\(entry.name)=\(Sysctl.read(client, entry))\n"
      }
      BSD.write(out, to: 1)
      return
    }
    guard let entry = Sysctl.names.first(where: { $0.name == name }) else {
      BSD.err(1, name, KernelErrno.ENOENT.text)
    }
    let current = Sysctl.read(client, entry)
    guard let value else {
      BSD.write("\(name)=\(current)\n", to: 1)
      return
    }
    var new: [UInt8]
    if entry.integer {
      guard let level = Int32(value) else { BSD.err(1, name, KernelErrno.EINVAL.text) }
      new = []
      unsafe withUnsafeBytes(of: level.littleEndian) { unsafe new.append(contentsOf: $0) }
    } else {
      new = Array(value.utf8)
    }
    system(client, name) { k throws(SyscallError) in _ = try k.sysctl(entry.mib, size: 0, new: new)
    }
    BSD.write("\(name): \(current) -> \(Sysctl.read(client, entry))\n", to: 1)
  }

  /// The variable's value as text.
  static func read(_ client: DeviceClient, _ entry: (name: String, mib: [Int32], integer: Bool))
    -> String
  {
    let bytes = system(client, entry.name) { k throws(SyscallError) in
      try k.sysctl(entry.mib, size: entry.integer ? 4 : 1024)
    }
    if entry.integer { return "\(Int32(bitPattern: le32(bytes)))" }
    return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
  }

  static func le32(_ b: [UInt8]) -> UInt32 {
    var v: UInt32 = 0
    for (i, byte) in b.prefix(4).enumerated() { v |= UInt32(byte) << (8 * UInt32(i)) }
    return v
  }
}

struct Ksyms: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ksyms",
    abstract: "Print the kernel symbol table, one symbol a line: ADDRESS TYPE NAME [MODULE].",
    discussion:
      "The output is what modload -n -A reads. PATTERN is a shell pattern (fnmatch) on names.")
  @OptionGroup var device: DeviceOption
  @Option(
    name: .customShort("m"),
    help: ArgumentHelp(
      "Only the symbols of this module ('kernel' for the kernel's own).", valueName: "module"))
  var module: String?
  @Argument(help: "A shell pattern on names ('*split*').") var pattern: String?

  func run() {
    let reply = perform(session(device, write: false), .ksyms, what: "ksyms")
    var out = ""
    for s in reply.symbols {
      if let module {
        if module == "kernel" ? s.module != nil : s.module != module { continue }
      }
      if let pattern, !system_fnmatch(pattern, s.name) { continue }
      out += String(s.address, radix: 16).leftPadded16() + " \(s.type) \(s.name)"
      if let module = s.module { out += "\t[\(module)]" }
      out += "\n"
    }
    if out.isEmpty && (module != nil || pattern != nil) {
      // A filter that matched nothing says so (exit 1), rather than printing nothing.
      var what = pattern.map { "no symbol matches '\($0)'" } ?? "no symbols"
      if let module { what += module == "kernel" ? " in the kernel" : " in module '\(module)'" }
      if let pattern, !pattern.contains(where: { "*?[".contains($0) }) {
        what += " (a shell pattern: '*\(pattern)*' matches names containing it)"
      }
      BSD.errx(1, "ksyms: \(what)")
    }
    BSD.write(out, to: 1)
  }
}

extension String {
  func leftPadded16() -> String {
    count >= 16 ? self : String(repeating: "0", count: 16 - count) + self
  }
}

struct Addr: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "addr",
    abstract: "Say which module and function (+offset) an address is in.")
  @OptionGroup var device: DeviceOption
  @Argument(help: "The address, in hex (0x optional).") var address: String

  func run() {
    let digits = address.lowercased().hasPrefix("0x") ? String(address.dropFirst(2)) : address
    guard let value = UInt64(digits, radix: 16) else {
      BSD.errx(1, "\(address): not a hexadecimal address")
    }
    let client = session(device, write: false)
    let reply: Reply
    do { reply = try client.perform(.addr(value)) } catch {
      BSD.deviceFailed(client.path, error, openFailure: 1)
    }
    if reply.error == .ENOENT {
      BSD.errx(1, "\(address): not in the kernel or a loaded module")
    }
    if reply.error != nil { BSD.err(1, address, reply.errorText) }
    BSD.write("0x\(String(value, radix: 16)) is in \(reply.text)\n", to: 1)
  }
}

struct Crashes: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crashes",
    abstract:
      "List the crash reports of this lkmd: each time the kernel process died or hung and was rebooted.",
    discussion:
      "One line per report: NUMBER, time (UTC), what happened, the module whose code ran and the request in flight, and the report's file. With NUMBER, print that report."
  )
  @OptionGroup var device: DeviceOption
  @Argument(help: "A report's number: print it whole.") var number: Int32?

  func run() {
    let reply = perform(session(device, write: false), .crashes, what: "crashes")
    let reports = reply.crashReports
    if let number {
      guard let report = reports.first(where: { $0.number == number }) else {
        BSD.errx(1, "crashes: no report \(number)")
      }
      BSD.write(report.text, to: 1)
      return
    }
    var out = ""
    for r in reports {
      out += "\(r.number) \(utc(r.time)) kernel process \(r.reason)"
      if let module = r.module { out += " in module '\(module)'" }
      if let request = r.request { out += " during \(request)" }
      if !r.path.isEmpty { out += " (\(r.path))" }
      out += "\n"
    }
    BSD.write(out, to: 1)
  }

  func utc(_ seconds: Int64) -> String {
    system_formatTime(seconds, "%Y-%m-%dT%H:%M:%SZ", local: false)
  }
}

/// The device path option every subcommand shares.
struct DeviceOption: ParsableArguments {
  @Option(
    name: .customLong("device"),
    help: ArgumentHelp(
      "The lkm device socket (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm).", valueName: "path"))
  var device: String?
}
