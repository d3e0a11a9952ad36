// The kernel's namespace as userland sees it: device nodes, directory entries, mounts.

/// A node of the kernel's /dev: a character or block device number.
///
/// The corresponding OpenBSD objects are the special files mknod(8) makes; here they live in
/// the kernel, and the kernel's /dev is the only place they can be.
public struct DeviceNode: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// `c`: cdevsw
    case character
    /// `b`: bdevsw
    case block
  }
  public var kind: Kind
  public var major: Int32
  public var minor: Int32
  /// Permission bits, for `ls -l`.
  public var mode: Int64

  public init(kind: Kind, major: Int32, minor: Int32, mode: Int64 = 0o600) {
    self.kind = kind
    self.major = major
    self.minor = minor
    self.mode = mode
  }

  /// `makedev(major, minor)`, OpenBSD's encoding.
  package var device: Int32 {
    let value =
      ((UInt32(bitPattern: major) & 0xff) << 8) | (UInt32(bitPattern: minor) & 0xff)
      | ((UInt32(bitPattern: minor) & 0xffff00) << 8)
    return Int32(bitPattern: value)
  }

  /// The nodes of the kernel's own drivers: the console, null and zero, and the lkm device.
  package static let builtIn: [String: DeviceNode] = [
    "console": DeviceNode(kind: .character, major: 0, minor: 0, mode: 0o600),
    "null": DeviceNode(kind: .character, major: 2, minor: 2, mode: 0o666),
    "zero": DeviceNode(kind: .character, major: 2, minor: 12, mode: 0o666),
    "lkm": DeviceNode(kind: .character, major: 28, minor: 0, mode: 0o640),
  ]
}

/// One name in a directory listing.
public struct DirectoryEntry: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case directory, regular, link, other
    case device(DeviceNode)
  }
  public var name: String
  public var kind: Kind
  /// Bytes, for regular files (VOP_GETATTR's va_size) when known.
  public var size: Int64?
  /// Permission bits, when known.
  public var mode: Int64?

  public init(name: String, kind: Kind, size: Int64? = nil, mode: Int64? = nil) {
    self.name = name
    self.kind = kind
    self.size = size
    self.mode = mode
  }
}

/// A file system type of the vfsconf list.
public struct FileSystemType: Sendable, Equatable {
  /// `vfc_name`
  public var name: String
  /// `vfc_typenum`
  public var typeNumber: Int32
  /// `vfc_refcount`: how many mounts.
  public var mounts: UInt32
  /// The id of the module that registered it.
  public var module: Int32
  public init(name: String, typeNumber: Int32, mounts: UInt32, module: Int32) {
    self.name = name
    self.typeNumber = typeNumber
    self.mounts = mounts
    self.module = module
  }
}

/// A mounted file system, as mount(8) lists it.
public struct MountEntry: Sendable, Equatable {
  public var type: String
  public var path: String
  public init(type: String, path: String) {
    self.type = type
    self.path = path
  }
}
