// lkmctl's thin wrappers over the C library for LkmCtl.swift, ModInfo.swift and HostMount.swift;
// with Files.swift (the host files it reads and writes) the only files of lkmctl that import
// Glibc.
import Glibc

/// `seconds` since the epoch formatted by strftime(3) `format`, as local time or UTC; "?" if
/// the time cannot be broken down.
///
/// The corresponding C functions are `localtime_r(3)`, `gmtime_r(3)` and `strftime(3)`.
func system_formatTime(_ seconds: Int64, _ format: String, local: Bool) -> String {
  var t = time_t(seconds)
  var tm = unsafe tm()
  guard unsafe (local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)) != nil else { return "?" }
  var buffer = [CChar](repeating: 0, count: 64)
  let n = unsafe strftime(&buffer, buffer.count, format, &tm)
  return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The absolute path of the host directory `path`, or OpenBSD's text for why it is not one.
///
/// The corresponding C functions are `stat(2)` and `realpath(3)`.
func system_hostDirectory(_ path: String) -> Result<String, HostError> {
  var status = stat()
  guard unsafe stat(path, &status) == 0 else {
    return .failure(HostError(text: hostErrorText(errno)))
  }
  guard (status.st_mode & S_IFMT) == S_IFDIR else {
    return .failure(HostError(text: hostErrorText(ENOTDIR)))
  }
  guard let resolved = unsafe realpath(path, nil) else {
    return .failure(HostError(text: hostErrorText(errno)))
  }
  defer { unsafe free(resolved) }
  return unsafe .success(String(cString: resolved))
}

/// A host call's failure: OpenBSD's text for its errno.
struct HostError: Error {
  var text: String
}

/// Whether `name` matches the shell pattern `pattern`.
///
/// The corresponding C function is `fnmatch(3)` with no flags.
func system_fnmatch(_ pattern: String, _ name: String) -> Bool {
  unsafe fnmatch(pattern, name, 0) == 0
}
