import Glibc
public import LKMDevice
public import LKMInterface

/// err(3), errx(3), warnx(3) and usage for the OpenBSD-faithful tools: `progname: message`,
/// with OpenBSD's exit codes and strerror texts.
public enum BSD {
  /// The program name for messages.
  nonisolated(unsafe) public static var progname = "lkm"

  public static func write(_ text: String, to fd: Int32 = 2) {
    var text = text
    text.withUTF8 { buffer in
      var done = 0
      while done < buffer.count {
        let n = unsafe Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
        if n <= 0 { break }
        done += n
      }
    }
  }

  /// Prints `progname: message` on stderr.
  public static func warnx(_ message: String) { write(unsafe "\(progname): \(message)\n") }

  /// Prints `progname: message: text` on stderr.
  public static func warn(_ message: String, _ text: String) {
    write(unsafe "\(progname): \(message): \(text)\n")
  }

  /// exit(3), for tools that import no C library themselves.
  public static func exit(_ code: Int32) -> Never { Glibc.exit(code) }

  /// errx(3): `progname: message`, then exit.
  public static func errx(_ code: Int32, _ message: String) -> Never {
    warnx(message)
    exit(code)
  }

  /// err(3): `progname: message: text`, then exit.
  public static func err(_ code: Int32, _ message: String, _ text: String) -> Never {
    warn(message, text)
    exit(code)
  }

  /// `usage: …` on stderr, exit 1.
  public static func usage(_ synopsis: String) -> Never {
    write("usage: \(synopsis)\n")
    exit(1)
  }

  /// strtol(3) with base 0 (0x hex, 0 octal) into a non-negative Int32, as modunload and
  /// modstat parse ids; nil for junk, a sign, or overflow.
  public static func number(_ text: String) -> Int32? {
    guard !text.hasPrefix("-"), !text.hasPrefix("+"), let value = integer(text),
      value >= 0, value <= Int64(Int32.max)
    else { return nil }
    return Int32(value)
  }

  /// An integer as strtol(3) with base 0 reads it (a sign, then 0x hex, leading 0 octal or
  /// decimal; with `octal` false a leading 0 is decimal), all of `text` digits; a magnitude
  /// over 64 bits is nil, one over Int64 wraps (strtoul's reading of -1 as all ones).
  public static func integer(_ text: String, octal: Bool = true) -> Int64? {
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
    } else if octal && lower.count > 1 && lower.hasPrefix("0") {
      magnitude = UInt64(lower.dropFirst(), radix: 8)
    } else {
      magnitude = UInt64(lower, radix: 10)
    }
    guard let magnitude, !lower.isEmpty else { return nil }
    return negative ? 0 &- Int64(bitPattern: magnitude) : Int64(bitPattern: magnitude)
  }

  /// getopt(3)'s complaint about an option not in `optstring` (e.g. `"i:n:p:"`), printed as
  /// `progname: unknown option -- x` (or `option requires an argument -- x`); true if
  /// anything was wrong. Scanning stops at the first operand or `--`.
  public static func checkOptions(_ arguments: [String], _ optstring: String) -> Bool {
    var takesArgument: [Character: Bool] = [:]
    var chars = Array(optstring)
    if chars.first == ":" { chars.removeFirst() }
    for (i, c) in chars.enumerated() where c != ":" {
      takesArgument[c] = i + 1 < chars.count && chars[i + 1] == ":"
    }
    var i = 0
    while i < arguments.count {
      let arg = arguments[i]
      if arg == "--" || !arg.hasPrefix("-") || arg == "-" { return false }
      var letters = Array(arg.dropFirst())
      while let c = letters.first {
        letters.removeFirst()
        guard let needs = takesArgument[c] else {
          write(unsafe "\(progname): unknown option -- \(c)\n")
          return true
        }
        if needs {
          if letters.isEmpty {
            if i + 1 >= arguments.count {
              write(unsafe "\(progname): option requires an argument -- \(c)\n")
              return true
            }
            i += 1
          }
          break
        }
      }
      i += 1
    }
    return false
  }
}

/// A command line parsed as OpenBSD's getopt(3) parses it, with this implementation's long
/// options (`--device PATH`, `--sandbox`, `--help`) accepted anywhere before `--`.
public struct CommandLineOptions {
  /// How many times each flag was given.
  public var flags: [Character: Int] = [:]
  /// Each option's value (the last one given).
  public var values: [Character: String] = [:]
  /// Long options without a value that were given (`sandbox`).
  public var longFlags: Set<String> = []
  /// Long options' values (`device`).
  public var longValues: [String: String] = [:]
  /// What follows the options.
  public var operands: [String] = []
  /// `-h` or `--help`.
  public var help = false

  public func has(_ flag: Character) -> Bool { flags[flag] != nil }
}

extension BSD {
  /// Parses `arguments` as getopt(3) with `optstring` (`"dnSsvA:e:o:p:"`) does: flags may be
  /// joined (`-nv`), a value may be joined or the next word, whatever it begins with (`-e -x`
  /// gives `-x`), and options end at the first operand or `--`. `long` names the long options
  /// (true: takes a value, as `--device PATH` or `--device=PATH`), recognized anywhere before
  /// `--`. `-h` and `--help` set ``CommandLineOptions/help`` when `h` is not in `optstring`.
  ///
  /// On an error, prints getopt's complaint (`progname: unknown option -- x`, `progname:
  /// option requires an argument -- e`) and returns nil.
  public static func getopt(
    _ arguments: [String], _ optstring: String, long: [String: Bool] = [:]
  ) -> CommandLineOptions? {
    var takesArgument: [Character: Bool] = [:]
    let chars = Array(optstring)
    for (i, c) in chars.enumerated() where c != ":" {
      takesArgument[c] = i + 1 < chars.count && chars[i + 1] == ":"
    }
    var result = CommandLineOptions()
    var options = true
    var i = 0
    while i < arguments.count {
      let arg = arguments[i]
      i += 1
      if arg == "--" {
        result.operands += arguments[i...]
        break
      }
      if arg.hasPrefix("--") {
        let body = arg.dropFirst(2)
        let name = String(body.prefix { $0 != "=" })
        if name == "help" {
          result.help = true
          continue
        }
        guard let needsValue = long[name] else {
          write(unsafe "\(progname): unrecognized option '--\(name)'\n")
          return nil
        }
        if needsValue {
          if let eq = body.firstIndex(of: "=") {
            result.longValues[name] = String(body[body.index(after: eq)...])
          } else if i < arguments.count {
            result.longValues[name] = arguments[i]
            i += 1
          } else {
            write(unsafe "\(progname): option '--\(name)' requires an argument\n")
            return nil
          }
        } else {
          guard !body.contains("=") else {
            write(unsafe "\(progname): option '--\(name)' doesn't allow an argument\n")
            return nil
          }
          result.longFlags.insert(name)
        }
        continue
      }
      guard options, arg.hasPrefix("-"), arg != "-" else {
        options = false
        result.operands.append(arg)
        continue
      }
      var letters = Substring(arg.dropFirst())
      while let c = letters.first {
        letters = letters.dropFirst()
        guard let needs = takesArgument[c] else {
          if c == "h" {
            result.help = true
            continue
          }
          write(unsafe "\(progname): unknown option -- \(c)\n")
          return nil
        }
        if needs {
          if !letters.isEmpty {
            result.values[c] = String(letters)
          } else if i < arguments.count {
            result.values[c] = arguments[i]
            i += 1
          } else {
            write(unsafe "\(progname): option requires an argument -- \(c)\n")
            return nil
          }
          break
        }
        result.flags[c, default: 0] += 1
      }
    }
    return result
  }

  /// The exit status of every tool when no lkmd serves the device (nothing listens on the
  /// socket): EX_UNAVAILABLE of sysexits(3), the same for modload, modunload, modstat and
  /// lkmctl (OpenBSD's tools could not meet this case: /dev/lkm is always there).
  public static let noKernelStatus: Int32 = 69

  /// Opens a session on the device: on failure, `progname: PATH: strerror` and exit
  /// `openFailure` (OpenBSD's status for a failed open of /dev/lkm: 3 for modload, 2 for
  /// modunload and modstat); when nothing serves the device, a second line saying how to
  /// start lkmd, and exit ``noKernelStatus``.
  public static func openDevice(
    _ option: String?, write: Bool, exclusive: Bool = true, openFailure: Int32
  ) -> DeviceClient {
    let path = DeviceClient.defaultPath(option)
    do { return try DeviceClient(path: path, write: write, exclusive: exclusive) } catch {
      deviceFailed(path, error, openFailure: openFailure)
    }
  }

  /// Reports a failed session or request: as ``openDevice(_:write:openFailure:)`` does.
  public static func deviceFailed(_ path: String, _ error: DeviceError, openFailure: Int32)
    -> Never
  {
    warn(path, error.openBSDText)
    if error.errno == ENOENT || error.errno == ECONNREFUSED {
      write(unsafe "\(progname): is lkmd running? start it with: lkmd --device \(path)\n")
      exit(noKernelStatus)
    }
    exit(openFailure)
  }

  /// After a failed request's message: when module code faulted during it (the reply carries
  /// ``Reply/oops``), a second line saying where the oops is (`progname: see lkmctl dmesg for
  /// the oops`), so that EFAULT "Bad address" is not taken for the module's own return.
  public static func oopsHint(_ reply: Reply) {
    if reply.oops { warnx(Reply.oopsHint) }
  }

  /// err(3) for a failed request: `progname: message: text`, the oops hint when module code
  /// faulted (``oopsHint(_:)``), then exit.
  public static func fail(_ code: Int32, _ message: String, _ reply: Reply) -> Never {
    warn(message, reply.errorText)
    oopsHint(reply)
    exit(code)
  }

  /// Prints what a module's hooks uprintf-ed on stdout, as it reached the terminal of the
  /// process that made the request on OpenBSD.
  public static func printOutput(_ text: String) {
    if !text.isEmpty { write(text, to: 1) }
  }
}
