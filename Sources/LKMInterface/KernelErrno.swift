/// An errno in OpenBSD's numbering, with OpenBSD's text: what module handlers return and what
/// the device replies carry. Host errors are Linux's; convert by name, never by number.
public struct KernelErrno: Error, Sendable, Hashable, CustomStringConvertible {
  public var rawValue: Int32
  public init(_ rawValue: Int32) { self.rawValue = rawValue }

  public static let EPERM = KernelErrno(1)
  public static let ENOENT = KernelErrno(2)
  public static let EINTR = KernelErrno(4)
  public static let EIO = KernelErrno(5)
  public static let ENXIO = KernelErrno(6)
  public static let ENOEXEC = KernelErrno(8)
  public static let EBADF = KernelErrno(9)
  public static let ENOMEM = KernelErrno(12)
  public static let EACCES = KernelErrno(13)
  public static let EFAULT = KernelErrno(14)
  public static let EBUSY = KernelErrno(16)
  public static let EEXIST = KernelErrno(17)
  public static let ENODEV = KernelErrno(19)
  public static let ENOTDIR = KernelErrno(20)
  public static let EISDIR = KernelErrno(21)
  public static let EINVAL = KernelErrno(22)
  public static let ENFILE = KernelErrno(23)
  public static let ENOTTY = KernelErrno(25)
  public static let EFBIG = KernelErrno(27)
  public static let ENOSPC = KernelErrno(28)
  public static let EROFS = KernelErrno(30)
  public static let EAGAIN = KernelErrno(35)
  public static let EOPNOTSUPP = KernelErrno(45)
  public static let ENAMETOOLONG = KernelErrno(63)
  public static let ENOTEMPTY = KernelErrno(66)
  public static let ENOSYS = KernelErrno(78)
  public static let EFTYPE = KernelErrno(79)

  /// OpenBSD's `strerror` text (lib/libc/gen/errlist.c).
  public var text: String {
    switch rawValue {
    case 0: "Undefined error: 0"
    case 1: "Operation not permitted"
    case 2: "No such file or directory"
    case 3: "No such process"
    case 4: "Interrupted system call"
    case 5: "Input/output error"
    case 6: "Device not configured"
    case 7: "Argument list too long"
    case 8: "Exec format error"
    case 9: "Bad file descriptor"
    case 10: "No child processes"
    case 11: "Resource deadlock avoided"
    case 12: "Cannot allocate memory"
    case 13: "Permission denied"
    case 14: "Bad address"
    case 15: "Block device required"
    case 16: "Device busy"
    case 17: "File exists"
    case 18: "Cross-device link"
    case 19: "Operation not supported by device"
    case 20: "Not a directory"
    case 21: "Is a directory"
    case 22: "Invalid argument"
    case 23: "Too many open files in system"
    case 24: "Too many open files"
    case 25: "Inappropriate ioctl for device"
    case 26: "Text file busy"
    case 27: "File too large"
    case 28: "No space left on device"
    case 29: "Illegal seek"
    case 30: "Read-only file system"
    case 31: "Too many links"
    case 32: "Broken pipe"
    case 33: "Numerical argument out of domain"
    case 34: "Result too large"
    case 35: "Resource temporarily unavailable"
    case 36: "Operation now in progress"
    case 37: "Operation already in progress"
    case 45: "Operation not supported"
    case 60: "Operation timed out"
    case 61: "Connection refused"
    case 63: "File name too long"
    case 66: "Directory not empty"
    case 78: "Function not implemented"
    case 79: "Inappropriate file type or format"
    default: "Unknown error: \(rawValue)"
    }
  }

  /// The symbolic name (`EBUSY`), for logs and tests.
  public var name: String {
    let names: [Int32: String] = [
      1: "EPERM", 2: "ENOENT", 4: "EINTR", 5: "EIO", 6: "ENXIO", 8: "ENOEXEC", 9: "EBADF",
      12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV",
      20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 25: "ENOTTY", 27: "EFBIG",
      28: "ENOSPC", 30: "EROFS", 35: "EAGAIN", 45: "EOPNOTSUPP", 63: "ENAMETOOLONG",
      66: "ENOTEMPTY", 78: "ENOSYS", 79: "EFTYPE",
    ]
    return names[rawValue] ?? "E\(rawValue)"
  }

  public var description: String { text }
}

/// Module types (`MODTYPE`).
public enum ModuleType: Int32, Sendable, CaseIterable {
  /// `LM_SYSCALL`
  case syscall = 0
  /// `LM_VFS`
  case vfs = 1
  /// `LM_DEV`
  case dev = 2
  /// `LM_EXEC`
  case exec = 3
  /// `LM_MISC`
  case misc = 4

  /// modstat's name for the type.
  public var modstatName: String {
    switch self {
    case .syscall: "SYSCALL"
    case .vfs: "VFS"
    case .dev: "DEV"
    case .exec: "EXEC"
    case .misc: "MISC"
    }
  }
}
