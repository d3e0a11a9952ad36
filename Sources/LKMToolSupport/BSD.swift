public import ArgumentParser
import Glibc

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
        let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
        if n <= 0 { break }
        done += n
      }
    }
  }

  /// Prints `progname: message` on stderr.
  public static func warnx(_ message: String) { write("\(progname): \(message)\n") }

  /// Prints `progname: message: text` on stderr.
  public static func warn(_ message: String, _ text: String) { write("\(progname): \(message): \(text)\n") }

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
    guard !text.isEmpty, !text.hasPrefix("-"), !text.hasPrefix("+") else { return nil }
    let lower = text.lowercased()
    let value: Int64?
    if lower.hasPrefix("0x") {
      value = Int64(lower.dropFirst(2), radix: 16)
    } else if lower.count > 1 && lower.hasPrefix("0") {
      value = Int64(lower.dropFirst(), radix: 8)
    } else {
      value = Int64(lower, radix: 10)
    }
    guard let value, value >= 0, value <= Int64(Int32.max) else { return nil }
    return Int32(value)
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
          write("\(progname): unknown option -- \(c)\n")
          return true
        }
        if needs {
          if letters.isEmpty {
            if i + 1 >= arguments.count {
              write("\(progname): option requires an argument -- \(c)\n")
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

/// The device path option every tool shares.
public struct DeviceOption: ParsableArguments {
  @Option(name: .customLong("device"), help: "The lkm device socket (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm).")
  public var device: String?
  public init() {}
}
