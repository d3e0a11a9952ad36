public import LKMInterface
extension Kernel {
  /// The vfsconf list: the file system types modules have registered, in order.
  public var fileSystemTypes: [FileSystemType] { Bridge.fileSystemTypes }

  /// The mount table, in mount order.
  public var mounts: [MountEntry] { Bridge.mounts.map { MountEntry(type: $0.type, path: $0.path) } }

  /// mount(2): mounts a registered file system type on a path of the kernel's namespace.
  ///
  /// A mount point is a path outside /dev and outside every mounted file system (this kernel
  /// mounts on its own directories only); the directories leading to it appear in listings.
  ///
  /// - Throws: EOPNOTSUPP for a type no module registered or a path inside a mounted file
  ///   system, EBUSY for `/`, /dev, a mount point, or a path above one, ENAMETOOLONG for a path
  ///   of 90 bytes or more (MNAMELEN), the file system's own error from vfs_mount.
  public func mount(type: String, at path: String, credentials: Credentials) throws(KernelErrno) {
    begin(credentials)
    let parts = Kernel.components(path)
    let normalized = Kernel.joined(parts)
    guard !parts.isEmpty, parts[0] != "dev" else { throw .EBUSY }
    guard normalized.utf8.count < 90, parts.allSatisfy({ $0.utf8.count <= 255 }) else {
      throw .ENAMETOOLONG
    }
    for m in Bridge.mounts {
      let point = Kernel.components(m.path)
      if point == parts { throw .EBUSY }
      if point.count > parts.count && Array(point.prefix(parts.count)) == parts { throw .EBUSY }
      if parts.count > point.count && Array(parts.prefix(point.count)) == point {
        throw .EOPNOTSUPP
      }
    }
    let (_, outcome) = Bridge.mount(type: type, path: normalized)
    try contain(outcome, during: "vfs_mount of '\(type)' on \(normalized)")
  }

  /// unmount(2): vfs_unmount, then the mount's vnodes are reclaimed and freed. A file system
  /// whose vfs_unmount faults is unmounted anyway (and the fault reported).
  ///
  /// - Throws: EINVAL if the path is not a mount point, the file system's refusal.
  public func unmount(_ path: String, credentials: Credentials) throws(KernelErrno) {
    begin(credentials)
    let parts = Kernel.components(path)
    guard let m = Bridge.mounts.first(where: { Kernel.components($0.path) == parts }) else {
      throw .EINVAL
    }
    let outcome = Bridge.unmount(m.handle)
    try contain(outcome, during: "vfs_unmount of '\(m.type)' on \(m.path)")
  }

  /// Unmounts every file system, newest first, whatever they say (at shutdown).
  func unmountAll() {
    for m in Bridge.mounts.reversed() {
      let outcome = Bridge.unmount(m.handle)
      do { try contain(outcome, during: "vfs_unmount of '\(m.type)' on \(m.path)") } catch {
        if Bridge.mounts.contains(where: { $0.handle.pointer == m.handle.pointer }) {
          log("lkm: '\(m.type)' on \(m.path) refused to unmount at shutdown: \(error.text)\n")
          Bridge.forgetModule(fileSystemTypes.first { $0.name == m.type }?.module ?? -1)
        }
      }
    }
  }
}
