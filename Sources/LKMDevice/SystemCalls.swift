public import LKMInterface

/// A failed system call: the device went wrong (no lkmd, a broken connection), or the kernel
/// answered with an errno (or panicked, and was rebooted, while serving it).
public enum SyscallError: Error {
  case device(DeviceError)
  /// `text` is what a tool prints (`strerror`, or the panic); `oops` says the kernel wrote an
  /// oops while serving the call (a module's code faulted under it).
  case kernel(KernelErrno, text: String, oops: Bool)

  public var errno: KernelErrno? {
    if case .kernel(let e, _, _) = self { return e }
    return nil
  }
}

/// The result of one system call: retval[0], the bytes of its returned buffers (in the order
/// of the arguments that return them) and what module code uprintf-ed.
public struct SyscallResult: Sendable {
  public var retval: Int64
  public var buffers: [[UInt8]]
  public var output: String
}

/// OpenBSD's system call numbers (sys/syscall.h) the tools use.
public enum SyscallNumber {
  public static let read: Int32 = 3
  public static let write: Int32 = 4
  public static let open: Int32 = 5
  public static let close: Int32 = 6
  public static let unlink: Int32 = 10
  public static let mknod: Int32 = 14
  public static let chmod: Int32 = 15
  public static let getpid: Int32 = 20
  public static let mount: Int32 = 21
  public static let unmount: Int32 = 22
  public static let stat: Int32 = 38
  public static let lstat: Int32 = 40
  public static let ioctl: Int32 = 54
  public static let symlink: Int32 = 57
  public static let readlink: Int32 = 58
  public static let getfsstat: Int32 = 62
  public static let getdents: Int32 = 99
  public static let rename: Int32 = 128
  public static let mkdir: Int32 = 136
  public static let rmdir: Int32 = 137
  public static let pread: Int32 = 173
  public static let pwrite: Int32 = 174
  public static let lseek: Int32 = 199
  public static let sysctl: Int32 = 202
  public static let poll: Int32 = 252
}

/// open(2)'s flags and mode bits as OpenBSD numbers them (sys/fcntl.h, sys/stat.h).
public enum OpenFlags {
  public static let readOnly: Int64 = 0x0000
  public static let writeOnly: Int64 = 0x0001
  public static let readWrite: Int64 = 0x0002
  public static let nonblocking: Int64 = 0x0004
  public static let create: Int64 = 0x0200
  public static let truncate: Int64 = 0x0400
  public static let directory: Int64 = 0x20000
}

/// A file's type as `st_mode`'s S_IFMT bits carry it (openbsd/src: sys/sys/stat.h).
public enum FileKind: UInt32, Sendable {
  /// `S_IFIFO`
  case fifo = 0o010000
  /// `S_IFCHR`
  case characterDevice = 0o020000
  /// `S_IFDIR`
  case directory = 0o040000
  /// `S_IFBLK`
  case blockDevice = 0o060000
  /// `S_IFREG`
  case regular = 0o100000
  /// `S_IFLNK`
  case symbolicLink = 0o120000
  /// `S_IFSOCK`
  case socket = 0o140000

  /// Whether this is a device node (`S_ISCHR` or `S_ISBLK`).
  public var isDevice: Bool { self == .characterDevice || self == .blockDevice }
}

/// A file's status as OpenBSD's `struct stat` (128 bytes) carries it.
public struct FileStatus: Sendable, Equatable {
  public var mode: UInt32
  public var inode: UInt64
  public var links: UInt32
  public var uid: UInt32
  public var gid: UInt32
  /// st_rdev: (major << 8) | minor, as OpenBSD's makedev for minors below 256.
  public var rdev: Int32
  public var size: Int64
  public var modified: Int64

  public static let byteCount = 128

  /// S_IFMT's type bits.
  public var type: UInt32 { mode & 0o170000 }
  /// The type bits as a kind; nil for a value OpenBSD does not define.
  public var kind: FileKind? { FileKind(rawValue: type) }
  public var isDirectory: Bool { kind == .directory }
  public var major: Int32 { (rdev >> 8) & 0xff }
  public var minor: Int32 { (rdev & 0xff) | ((rdev >> 8) & 0xffff00) }

  init(_ b: [UInt8]) {
    mode = le(b, 0, UInt32.self)
    inode = le(b, 8, UInt64.self)
    links = le(b, 16, UInt32.self)
    uid = le(b, 20, UInt32.self)
    gid = le(b, 24, UInt32.self)
    rdev = Int32(bitPattern: le(b, 28, UInt32.self))
    modified = Int64(bitPattern: le(b, 48, UInt64.self))
    size = Int64(bitPattern: le(b, 80, UInt64.self))
  }
}

/// One entry of getdents(2)'s `struct dirent` records.
public struct DirectoryRecord: Sendable, Equatable {
  public var inode: UInt64
  public var type: UInt8
  public var name: String
}

/// One mounted file system, from getfsstat(2)'s `struct statfs` (272 bytes).
public struct MountedFileSystem: Sendable, Equatable {
  public var type: String
  public var on: String
  public var from: String
  public static let byteCount = 272
}

/// A little-endian integer of `T` at `offset` (zero past the end).
func le<T: FixedWidthInteger>(_ b: [UInt8], _ offset: Int, _: T.Type) -> T {
  loadLittleEndian(T.self, from: b, at: offset)
}

/// A NUL-terminated string in `b` from `offset`, at most `limit` bytes.
func cString(_ b: [UInt8], _ offset: Int, limit: Int) -> String {
  let end = min(b.count, offset + limit)
  guard offset < end else { return "" }
  let bytes = b[offset..<end].prefix { $0 != 0 }
  return String(decoding: bytes, as: UTF8.self)
}

/// The system calls a process makes to the kernel, each one request through sysent.
///
/// This is userland's libc: every wrapper is the system call of the same name with OpenBSD's
/// arguments, so that a module replacing or wrapping an entry of sysent changes what the tools
/// see. Pointers to the process's memory are arguments the kernel copies in (strings, bytes)
/// or out (buffers, returned in the reply).
extension DeviceClient {
  /// sysent[number] with `arguments`.
  public func syscall(_ number: Int32, _ arguments: [SyscallArgument]) throws(SyscallError)
    -> SyscallResult
  {
    let reply: Reply
    do { reply = try perform(.syscall(number: number, arguments: arguments)) } catch {
      throw .device(error)
    }
    if let error = reply.error {
      throw .kernel(error, text: reply.errorText, oops: reply.oops)
    }
    guard case .syscall(let retval, let output, let buffers) = reply.body else {
      throw .device(
        DeviceError(call: "recv", errno: 71, detail: "malformed reply to a system call"))
    }
    return SyscallResult(retval: retval, buffers: buffers, output: output)
  }

  public func open(_ path: String, _ flags: Int64, mode: Int64 = 0o644) throws(SyscallError)
    -> Int32
  {
    Int32(
      truncatingIfNeeded: try syscall(
        SyscallNumber.open, [.string(path), .integer(flags), .integer(mode)]
      ).retval)
  }

  public func close(_ fd: Int32) throws(SyscallError) {
    _ = try syscall(SyscallNumber.close, [.integer(Int64(fd))])
  }

  /// read(2) of up to `count` bytes.
  public func read(_ fd: Int32, count: Int) throws(SyscallError) -> [UInt8] {
    let r = try syscall(
      SyscallNumber.read, [.integer(Int64(fd)), .buffer(count), .integer(Int64(count))])
    return Array((r.buffers.first ?? []).prefix(Int(max(0, r.retval))))
  }

  /// pread(2) of up to `count` bytes at `offset`.
  public func pread(_ fd: Int32, count: Int, offset: UInt64) throws(SyscallError) -> [UInt8] {
    let r = try syscall(
      SyscallNumber.pread,
      [
        .integer(Int64(fd)), .buffer(count), .integer(Int64(count)), .integer(0),
        .integer(Int64(bitPattern: offset)),
      ])
    return Array((r.buffers.first ?? []).prefix(Int(max(0, r.retval))))
  }

  /// write(2); the count written.
  public func write(_ fd: Int32, _ bytes: [UInt8]) throws(SyscallError) -> Int {
    Int(
      try syscall(
        SyscallNumber.write, [.integer(Int64(fd)), .bytes(bytes), .integer(Int64(bytes.count))]
      ).retval)
  }

  /// pwrite(2) at `offset`; the count written.
  public func pwrite(_ fd: Int32, _ bytes: [UInt8], offset: UInt64) throws(SyscallError) -> Int {
    Int(
      try syscall(
        SyscallNumber.pwrite,
        [
          .integer(Int64(fd)), .bytes(bytes), .integer(Int64(bytes.count)), .integer(0),
          .integer(Int64(bitPattern: offset)),
        ]
      ).retval)
  }

  /// ioctl(2) with `data` as the argument's bytes (copied in and out, as the kernel's own
  /// ioctl copies IOCPARM_LEN bytes); the bytes after the call.
  public func ioctl(_ fd: Int32, _ command: UInt64, _ data: [UInt8]) throws(SyscallError)
    -> (retval: Int64, data: [UInt8])
  {
    let r = try syscall(
      SyscallNumber.ioctl, [.integer(Int64(fd)), .integer(Int64(bitPattern: command)), .both(data)])
    return (r.retval, r.buffers.first ?? [])
  }

  /// Every entry of the directory open on `fd`, by getdents(2) until it returns 0.
  public func readDirectory(_ fd: Int32) throws(SyscallError) -> [DirectoryRecord] {
    var records: [DirectoryRecord] = []
    while true {
      let r = try syscall(
        SyscallNumber.getdents, [.integer(Int64(fd)), .buffer(16384), .integer(16384)])
      let bytes = Array((r.buffers.first ?? []).prefix(Int(max(0, r.retval))))
      if bytes.isEmpty { return records }
      var at = 0
      while at + 24 <= bytes.count {
        let reclen = Int(le(bytes, at + 16, UInt16.self))
        guard reclen >= 24, at + reclen <= bytes.count else {
          throw .kernel(.EIO, text: "getdents returned a malformed record", oops: false)
        }
        let namlen = Int(bytes[at + 19])
        let name = String(
          decoding: bytes[(at + 24)..<min(at + 24 + namlen, at + reclen)], as: UTF8.self)
        let inode = le(bytes, at, UInt64.self)
        if inode != 0 {
          records.append(DirectoryRecord(inode: inode, type: bytes[at + 18], name: name))
        }
        at += reclen
      }
    }
  }

  public func stat(_ path: String) throws(SyscallError) -> FileStatus {
    let r = try syscall(SyscallNumber.stat, [.string(path), .buffer(FileStatus.byteCount)])
    return FileStatus(r.buffers.first ?? [])
  }

  public func lstat(_ path: String) throws(SyscallError) -> FileStatus {
    let r = try syscall(SyscallNumber.lstat, [.string(path), .buffer(FileStatus.byteCount)])
    return FileStatus(r.buffers.first ?? [])
  }

  public func mkdir(_ path: String, mode: Int64 = 0o755) throws(SyscallError) {
    _ = try syscall(SyscallNumber.mkdir, [.string(path), .integer(mode)])
  }

  public func rmdir(_ path: String) throws(SyscallError) {
    _ = try syscall(SyscallNumber.rmdir, [.string(path)])
  }

  public func unlink(_ path: String) throws(SyscallError) {
    _ = try syscall(SyscallNumber.unlink, [.string(path)])
  }

  public func rename(_ from: String, _ to: String) throws(SyscallError) {
    _ = try syscall(SyscallNumber.rename, [.string(from), .string(to)])
  }

  /// mknod(2): `mode` with S_IFCHR or S_IFBLK, `dev` as makedev(major, minor).
  public func mknod(_ path: String, mode: Int64, major: Int32, minor: Int32) throws(SyscallError) {
    let dev = Int64((major & 0xff) << 8) | Int64(minor & 0xff) | Int64((minor & 0xffff00) << 8)
    _ = try syscall(SyscallNumber.mknod, [.string(path), .integer(mode), .integer(dev)])
  }

  public func chmod(_ path: String, mode: Int64) throws(SyscallError) {
    _ = try syscall(SyscallNumber.chmod, [.string(path), .integer(mode)])
  }

  public func symlink(_ target: String, _ path: String) throws(SyscallError) {
    _ = try syscall(SyscallNumber.symlink, [.string(target), .string(path)])
  }

  public func readlink(_ path: String) throws(SyscallError) -> String {
    let r = try syscall(SyscallNumber.readlink, [.string(path), .buffer(1024), .integer(1024)])
    return String(decoding: (r.buffers.first ?? []).prefix(Int(max(0, r.retval))), as: UTF8.self)
  }

  public func mount(_ type: String, _ path: String, flags: Int64 = 0) throws(SyscallError) {
    _ = try syscall(
      SyscallNumber.mount, [.string(type), .string(path), .integer(flags), .integer(0)])
  }

  public func unmount(_ path: String, flags: Int64 = 0) throws(SyscallError) {
    _ = try syscall(SyscallNumber.unmount, [.string(path), .integer(flags)])
  }

  /// getfsstat(2): every mounted file system (asked once for the count, then for the records).
  public func mountedFileSystems() throws(SyscallError) -> [MountedFileSystem] {
    let count = try syscall(SyscallNumber.getfsstat, [.integer(0), .integer(0), .integer(0)]).retval
    let size = Int(max(0, min(count + 8, 4096))) * MountedFileSystem.byteCount
    let r = try syscall(
      SyscallNumber.getfsstat, [.buffer(size), .integer(Int64(size)), .integer(0)])
    let bytes = r.buffers.first ?? []
    var list: [MountedFileSystem] = []
    for i in 0..<Int(max(0, r.retval)) {
      let at = i * MountedFileSystem.byteCount
      guard at + MountedFileSystem.byteCount <= bytes.count else { break }
      list.append(
        MountedFileSystem(
          type: cString(bytes, at + 72, limit: 16), on: cString(bytes, at + 88, limit: 90),
          from: cString(bytes, at + 178, limit: 90)))
    }
    return list
  }

  /// __sysctl(2) on the MIB `name`: reads the old value (up to `size` bytes) and, with `new`,
  /// sets it.
  public func sysctl(_ name: [Int32], size: Int, new: [UInt8]? = nil) throws(SyscallError)
    -> [UInt8]
  {
    var mib: [UInt8] = []
    for component in name {
      unsafe withUnsafeBytes(of: component.littleEndian) { unsafe mib.append(contentsOf: $0) }
    }
    var length: [UInt8] = []
    unsafe withUnsafeBytes(of: UInt64(size).littleEndian) { unsafe length.append(contentsOf: $0) }
    let r = try syscall(
      SyscallNumber.sysctl,
      [
        .bytes(mib), .integer(Int64(name.count)), size > 0 ? .buffer(size) : .integer(0),
        size > 0 ? .both(length) : .integer(0), new.map { .bytes($0) } ?? .integer(0),
        .integer(Int64(new?.count ?? 0)),
      ])
    guard size > 0, r.buffers.count == 2 else { return [] }
    let got = Int(le(r.buffers[1], 0, UInt64.self))
    return Array(r.buffers[0].prefix(got))
  }

  /// poll(2) of `fds` (descriptor, events) for up to `timeout` ms (-1: no limit); the revents
  /// of each, in order.
  public func poll(_ fds: [(fd: Int32, events: Int16)], timeout: Int32) throws(SyscallError)
    -> [Int16]
  {
    var bytes: [UInt8] = []
    for f in fds {
      unsafe withUnsafeBytes(of: f.fd.littleEndian) { unsafe bytes.append(contentsOf: $0) }
      unsafe withUnsafeBytes(of: f.events.littleEndian) { unsafe bytes.append(contentsOf: $0) }
      bytes += [0, 0]
    }
    let r = try syscall(
      SyscallNumber.poll, [.both(bytes), .integer(Int64(fds.count)), .integer(Int64(timeout))])
    let out = r.buffers.first ?? []
    return (0..<fds.count).map { Int16(bitPattern: le(out, $0 * 8 + 6, UInt16.self)) }
  }

  public func getpid() throws(SyscallError) -> Int32 {
    Int32(truncatingIfNeeded: try syscall(SyscallNumber.getpid, []).retval)
  }
}
