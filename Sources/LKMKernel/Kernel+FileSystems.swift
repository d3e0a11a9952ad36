public import LKMInterface

extension Kernel {
  /// The vfsconf list: the file system types modules have registered, in order.
  public var fileSystemTypes: [FileSystemType] { Bridge.fileSystemTypes }

  /// Unmounts every file system but the root, newest first, whatever they say (at shutdown).
  func unmountAll() {
    Bridge.unmountAll()
    reportPendingOopses()
  }
}
