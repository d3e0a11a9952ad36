// The only file of LKMLoader that calls the C library: files modload reads and writes.
import Glibc

/// nil if `path` can be opened for reading as a file; else strerror's text (a directory is
/// `EISDIR`).
///
/// The corresponding C function is `stat(2)`.
func system_checkRegularOrOther(_ path: String) -> String? {
  var info = stat()
  guard unsafe stat(path, &info) == 0 else { return unsafe String(cString: strerror(errno)) }
  if info.st_mode & S_IFMT == S_IFDIR { return unsafe String(cString: strerror(EISDIR)) }
  return nil
}

/// strerror's text for the last failure (`EIO` if errno is 0).
func system_lastErrorText() -> String { unsafe String(cString: strerror(errno == 0 ? EIO : errno)) }

/// Creates or empties `path` (mode 0644); nil, or strerror's text.
///
/// The corresponding C function is `open(2)` with `O_CREAT | O_TRUNC`.
func system_create(_ path: String) -> String? {
  let fd = unsafe open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else { return unsafe String(cString: strerror(errno)) }
  close(fd)
  return nil
}

/// Writes `bytes` to `path` (created or emptied, mode 0644); nil, or strerror's text.
///
/// The corresponding C functions are `open(2)` and `write(2)`.
func system_writeFile(_ path: String, _ bytes: [UInt8]) -> String? {
  let fd = unsafe open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else { return unsafe String(cString: strerror(errno)) }
  defer { close(fd) }
  var done = 0
  while done < bytes.count {
    let n = unsafe bytes.withUnsafeBytes {
      unsafe write(fd, $0.baseAddress! + done, bytes.count - done)
    }
    if n <= 0 { return unsafe String(cString: strerror(n == 0 ? EIO : errno)) }
    done += n
  }
  return nil
}
