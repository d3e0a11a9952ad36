// The sandbox parent's thin wrappers over the C library for Sandbox.swift, SandboxError.swift,
// ReportFile.swift and HelperProcess.swift (the helper's pipes and memory files); with
// ChildProcess.swift (the processes the parent owns) the only files of LKMSandbox that import
// Glibc.
import Glibc

/// strerror(3)'s text for `code`.
func system_errorText(_ code: Int32) -> String { unsafe String(cString: strerror(code)) }

/// nil if `path` may be executed, else the errno.
///
/// The corresponding C function is `access(2)` with `X_OK`.
func system_checkExecutable(_ path: String) -> Int32? {
  unsafe access(path, X_OK) == 0 ? nil : errno
}

/// Makes SIGPIPE ignored in this process.
///
/// The corresponding C function is `signal(2)` with `SIG_IGN`.
func system_ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

/// Sends `signal` to `pid`.
///
/// The corresponding C function is `kill(2)`.
func system_kill(_ pid: Int32, _ signal: Int32) { _ = kill(pid, signal) }

/// Maps `size` bytes of descriptor `fd` shared and read-write; nil if it cannot.
///
/// The corresponding C function is `mmap(2)` with `MAP_SHARED`.
func system_mapShared(_ fd: Int32, _ size: Int) -> UnsafeMutableRawPointer? {
  let p = unsafe mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
  guard let p = unsafe p, unsafe p != MAP_FAILED else { return nil }
  return unsafe p
}

/// The errno the last call left.
func system_errno() -> Int32 { errno }

/// The corresponding C function is `close(2)`.
func system_close(_ fd: Int32) { close(fd) }

/// Truncates or extends `fd` to `size` bytes (failure ignored).
///
/// The corresponding C function is `ftruncate(2)`.
func system_ftruncate(_ fd: Int32, _ size: Int) { _ = ftruncate(fd, off_t(size)) }

/// Moves `fd`'s shared offset to 0.
///
/// The corresponding C function is `lseek(2)` with `SEEK_SET`.
func system_rewind(_ fd: Int32) { _ = lseek(fd, 0, SEEK_SET) }

/// `fd`'s shared offset, or -1.
///
/// The corresponding C function is `lseek(2)` with `SEEK_CUR`.
func system_offset(_ fd: Int32) -> Int { Int(lseek(fd, 0, SEEK_CUR)) }

/// Writes `bytes` at `offset` of `fd` (what it takes).
///
/// The corresponding C function is `pwrite(2)`.
func system_pwrite(_ fd: Int32, _ bytes: [UInt8], at offset: Int) {
  _ = unsafe bytes.withUnsafeBytes {
    unsafe pwrite(fd, $0.baseAddress!, bytes.count, off_t(offset))
  }
}

/// Up to `count` bytes from `offset` of `fd` (none on an error).
///
/// The corresponding C function is `pread(2)`.
func system_pread(_ fd: Int32, _ count: Int, at offset: Int) -> [UInt8] {
  var bytes = [UInt8](repeating: 0, count: count)
  let n = unsafe bytes.withUnsafeMutableBytes {
    unsafe pread(fd, $0.baseAddress!, count, off_t(offset))
  }
  return n > 0 ? Array(bytes[0..<n]) : []
}
