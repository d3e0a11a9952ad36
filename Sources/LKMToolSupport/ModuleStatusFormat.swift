public import LKMInterface

/// modstat's output, ported from OpenBSD's usr.bin/modstat/modstat.c.
public enum ModstatFormat {
  /// `2 * sizeof(void *)` on amd64.
  static let pointerSize = 16

  /// `"Type     Id Off %-*s Size %-*s Rev Module Name\n"`.
  public static var header: String {
    "Type     Id Off \("Loadaddr".padding(pointerSize)) Size \("Info".padding(pointerSize)) Rev Module Name\n"
  }

  /// modstat -v: a reference count column before the name, and the users after it.
  public static var verboseHeader: String {
    "Type     Id Off \("Loadaddr".padding(pointerSize)) Size \("Info".padding(pointerSize)) Rev Refs Module Name\n"
  }

  public static func verboseRow(_ s: ModuleStatus) -> String {
    var line = row(s)
    line.removeLast()
    // Insert the reference count before the name: the row is fixed-width up to "Rev ".
    let prefixCount = 7 + 1 + 3 + 1 + 3 + 1 + pointerSize + 1 + 4 + 1 + pointerSize + 1 + 3 + 1
    let prefix = line.prefix(prefixCount)
    let rest = line.dropFirst(prefixCount)
    let users = s.users.isEmpty ? "" : " (used by \(s.users.joined(separator: ", ")))"
    let files = s.files.isEmpty ? "" : " from \(s.files.joined(separator: " "))"
    return prefix + String(s.users.count).leftPad(4) + " " + rest + users + files + "\n"
  }

  /// `"%-7s %3d %3ld %0*lx %04lx %0*lx %3ld %s\n"`; a module that faulted gets " (faulted)".
  public static func row(_ s: ModuleStatus) -> String {
    let type = ModuleType(rawValue: s.type)?.modstatName ?? "\(s.type)"
    return type.padding(7) + " " + String(s.id).leftPad(3) + " " + String(s.offset).leftPad(3) + " "
      + String(s.area, radix: 16).zeroPad(pointerSize) + " " + String(s.pages, radix: 16).zeroPad(4)
      + " " + String(s.privateAddress, radix: 16).zeroPad(pointerSize) + " "
      + String(s.version).leftPad(3) + " " + s.name + (s.faulted ? " (faulted)" : "") + "\n"
  }
}

extension String {
  func padding(_ width: Int) -> String {
    count >= width ? self : self + String(repeating: " ", count: width - count)
  }
  func leftPad(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
  func zeroPad(_ width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
