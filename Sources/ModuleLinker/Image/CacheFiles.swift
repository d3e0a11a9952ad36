import ELFObject
// The only file that touches a cache's directory: creating it, writing entries (a temporary
// file renamed into place, so that readers see a whole entry or none), reading small files,
// marking use, and keeping the directory within its size.
internal import Glibc
import LKMBase

/// File system calls of an ``ImageCache``.
enum CacheFiles {
  /// Makes `path` (and its parents) a directory only its owner can use, or refuses one that
  /// others can write or that someone else owns: a cache holds code this process will run.
  static func prepareDirectory(_ path: String) throws(LinkError) {
    var st = stat()
    // The chain of directories is made only when the directory is missing (one stat(2) a
    // start, not a mkdir(2) per component).
    if unsafe stat(path, &st) != 0 {
      var prefix = path.hasPrefix("/") ? "" : "."
      for part in path.split(separator: "/") {
        prefix += "/" + part
        if unsafe mkdir(prefix, 0o700) != 0 && errno != EEXIST {
          throw LinkError(
            .memory, "cannot create the cache directory '\(prefix)': \(errorText())")
        }
      }
      guard unsafe stat(path, &st) == 0 else {
        throw LinkError(.memory, "the cache directory '\(path)' is not a directory")
      }
    }
    guard st.st_mode & S_IFMT == S_IFDIR else {
      throw LinkError(.memory, "the cache directory '\(path)' is not a directory")
    }
    guard st.st_uid == geteuid() else {
      throw LinkError(.memory, "the cache directory '\(path)' belongs to another user")
    }
    guard st.st_mode & 0o022 == 0 else {
      throw LinkError(
        .memory,
        "the cache directory '\(path)' is writable by others (mode \(String(st.st_mode & 0o777, radix: 8)))"
      )
    }
  }

  /// Whether files under `path` cannot be mapped executable (a `noexec` mount).
  static func isNoExec(_ path: String) -> Bool {
    var vfs = statvfs()
    guard unsafe statvfs(path, &vfs) == 0 else { return true }
    return vfs.f_flag & 8 != 0  // ST_NOEXEC
  }

  /// An environment variable.
  static func environment(_ name: String) -> String? {
    unsafe getenv(name).map { unsafe String(cString: $0) }
  }

  /// The time now, in nanoseconds since the epoch (`CLOCK_REALTIME`, as file times are).
  static func now() -> Int64 {
    var ts = timespec()
    unsafe clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
  }

  /// Opens a file for reading, or nil.
  static func openForReading(_ path: String) -> Int32? {
    let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
    return fd >= 0 ? fd : nil
  }

  static func close(_ descriptor: Int32) { _ = Glibc.close(descriptor) }

  /// The whole of a small file, or nil.
  static func readSmall(_ path: String, limit: Int) -> [UInt8]? {
    guard let fd = openForReading(path) else { return nil }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: limit + 1)
    let n = unsafe buffer.withUnsafeMutableBytes { unsafe read(fd, $0.baseAddress, $0.count) }
    guard n >= 0, n <= limit else { return nil }
    return Array(buffer[0..<n])
  }

  /// A temporary file in `directory`, open for writing.
  static func temporary(in directory: String) throws(LinkError) -> (path: String, descriptor: Int32)
  {
    var template = Array("\(directory)/.tmp-\(getpid())-XXXXXX".utf8CString)
    let fd = unsafe template.withUnsafeMutableBufferPointer { unsafe mkstemp($0.baseAddress!) }
    if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    guard fd >= 0 else {
      throw LinkError(.memory, "cannot create a file in '\(directory)': \(errorText())")
    }
    let path = String(
      decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return (path, fd)
  }

  /// Writes `bytes` to `path` whole: a temporary file renamed over it.
  static func writeSmall(_ path: String, _ bytes: [UInt8], directory: String) throws(LinkError) {
    let (temporary, fd) = try temporary(in: directory)
    var failure: String?
    unsafe bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = unsafe write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
          failure = errorText()
          return
        }
        done += n
      }
    }
    close(fd)
    if unsafe failure == nil && rename(temporary, path) != 0 { failure = errorText() }
    if let failure {
      unsafe unlink(temporary)
      throw LinkError(.memory, "cannot write '\(path)': \(failure)")
    }
  }

  /// Writes an entry: `head` (header and metadata) at offset 0, the image at `imageOffset`
  /// without the runs of zero pages (holes), the file's size to the image's end, then renames
  /// it into place.
  static func writeEntry(
    _ path: String, head: [UInt8], image: borrowing MappedImage, imageOffset: Int,
    zeroRuns: [Range<Int>], directory: String
  ) throws(LinkError) {
    let (temporary, fd) = try temporary(in: directory)
    var failure: String?
    unsafe head.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = unsafe pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(done))
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
          failure = errorText()
          return
        }
        done += n
      }
    }
    if failure == nil {
      var at = 0
      do {
        for run in zeroRuns + [image.byteCount..<image.byteCount] {
          if run.lowerBound > at {
            try image.write(at..<run.lowerBound, to: fd, at: imageOffset + at)
          }
          at = run.upperBound
        }
      } catch {
        failure = "\(error)"
      }
    }
    if failure == nil && ftruncate(fd, off_t(imageOffset + image.byteCount)) != 0 {
      failure = errorText()
    }
    close(fd)
    if unsafe failure == nil && rename(temporary, path) != 0 { failure = errorText() }
    if let failure {
      unsafe unlink(temporary)
      throw LinkError(.memory, "cannot write the cache entry '\(path)': \(failure)")
    }
  }

  /// Marks `path` as used now (its modification time orders eviction), if it was last marked
  /// more than a minute ago.
  static func markUsed(_ path: String, descriptor: Int32) {
    var st = stat()
    guard unsafe fstat(descriptor, &st) == 0 else { return }
    let modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    if now() - modified > 60_000_000_000 { futimens(descriptor, nil) }
  }

  static func remove(_ path: String) { unsafe unlink(path) }

  /// Removes the least recently used entries until the directory's files take at most
  /// `limit` bytes of disk (temporary files of writers that died an hour ago go too).
  static func evict(_ directory: String, limit: Int, keep: String) {
    guard let dir = unsafe opendir(directory) else { return }
    var files: [(path: String, used: Int64, bytes: Int)] = []
    var total = 0
    let hourAgo = now() - 3_600_000_000_000
    while let entry = unsafe readdir(dir) {
      let name = unsafe withUnsafeBytes(of: entry.pointee.d_name) { raw in
        unsafe String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
      }
      guard name != "." && name != ".." else { continue }
      let path = directory + "/" + name
      var st = stat()
      guard unsafe lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
      let used = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
      if name.hasPrefix(".tmp-") {
        if used < hourAgo { unsafe unlink(path) }
        continue
      }
      let bytes = Int(st.st_blocks) * 512
      total += bytes
      files.append((path, used, bytes))
    }
    unsafe closedir(dir)
    guard total > limit else { return }
    for file in files.sorted(by: { $0.used < $1.used }) where file.path != keep {
      if total <= limit - limit / 10 { break }
      if unsafe unlink(file.path) == 0 { total -= file.bytes }
    }
  }

  /// Removes every file of the cache directory.
  static func removeAll(_ directory: String) {
    guard let dir = unsafe opendir(directory) else { return }
    var names: [String] = []
    while let entry = unsafe readdir(dir) {
      let name = unsafe withUnsafeBytes(of: entry.pointee.d_name) { raw in
        unsafe String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
      }
      if name != "." && name != ".." { names.append(name) }
    }
    unsafe closedir(dir)
    for name in names { unsafe unlink(directory + "/" + name) }
  }

  /// The build ID of the executable or library holding this code, or the executable's
  /// identity when it has none: what a rebuilt linker changes.
  static let linkerIdentity: String = {
    var id = [UInt8](repeating: 0, count: 64)
    let length = host_build_id_at(AtExitRegistry.cxaAtExitAddress, &id)
    if length > 0 { return hexDigits(id[0..<length]) }
    if let identity = FileIdentity.of("/proc/self/exe") {
      return "exe \(identity.device):\(identity.inode):\(identity.size):\(identity.modified)"
    }
    return "unknown"
  }()

  private static func errorText() -> String { unsafe String(cString: strerror(errno)).lowercased() }
}
