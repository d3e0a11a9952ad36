// The thin wrappers over the C library that the sandbox, its child and the supervisor share:
// the environment, the executable's path and whole reads and writes of a descriptor.
import Glibc

/// The environment variable `name`, or nil.
///
/// The corresponding C function is `getenv(3)`.
package func system_environment(_ name: String) -> String? {
  unsafe getenv(name).map { unsafe String(cString: $0) }
}

/// The running executable's path (`/proc/self/exe`), or "".
///
/// The corresponding C function is `readlink(2)`.
package func system_executablePath() -> String {
  var buffer = [CChar](repeating: 0, count: 4096)
  let n = unsafe readlink("/proc/self/exe", &buffer, buffer.count - 1)
  return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
}

/// Writes all of `bytes` to `fd` (EINTR retried); false if it stops taking them.
///
/// The corresponding C function is `write(2)`.
package func system_writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
  var done = 0
  while done < bytes.count {
    let w = unsafe bytes.withUnsafeBytes {
      unsafe write(fd, $0.baseAddress! + done, bytes.count - done)
    }
    if w < 0 && errno == EINTR { continue }
    if w <= 0 { return false }
    done += w
  }
  return true
}

/// Exactly `count` bytes from `fd` (EINTR retried); nil at end of file or on an error.
///
/// The corresponding C function is `read(2)`.
package func system_readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
  var bytes = [UInt8](repeating: 0, count: count)
  var done = 0
  while done < count {
    let n = unsafe bytes.withUnsafeMutableBytes {
      unsafe read(fd, $0.baseAddress! + done, count - done)
    }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { return nil }
    done += n
  }
  return bytes
}

/// Writes `text` to standard error with write(2), whole (a tool's messages: no stdio buffer to
/// flush before an exit or an exec).
package func writeStandardError(_ text: String) {
  _ = system_writeAll(2, Array(text.utf8))
}
