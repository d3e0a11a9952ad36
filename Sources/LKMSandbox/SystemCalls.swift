// The sandbox parent's thin wrappers over the C library for Sandbox.swift, SandboxError.swift
// and ReportFile.swift; with ChildProcess.swift and HelperProcess.swift (the processes and
// descriptors the parent owns) the only files of LKMSandbox that import Glibc.
import Glibc

/// strerror(3)'s text for `code`.
func system_errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

/// nil if `path` may be executed, else the errno.
///
/// The corresponding C function is `access(2)` with `X_OK`.
func system_checkExecutable(_ path: String) -> Int32? { access(path, X_OK) == 0 ? nil : errno }

/// Makes SIGPIPE ignored in this process.
///
/// The corresponding C function is `signal(2)` with `SIG_IGN`.
func system_ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

/// The environment variable `name`, or nil.
///
/// The corresponding C function is `getenv(3)`.
func system_environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

/// The running executable's path (`/proc/self/exe`), or "".
///
/// The corresponding C function is `readlink(2)`.
func system_executablePath() -> String {
  var buffer = [CChar](repeating: 0, count: 4096)
  let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
  return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
}

/// Sends `signal` to `pid`.
///
/// The corresponding C function is `kill(2)`.
func system_kill(_ pid: Int32, _ signal: Int32) { _ = kill(pid, signal) }

/// Maps `size` bytes of descriptor `fd` shared and read-write; nil if it cannot.
///
/// The corresponding C function is `mmap(2)` with `MAP_SHARED`.
func system_mapShared(_ fd: Int32, _ size: Int) -> UnsafeMutableRawPointer? {
  let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
  guard let p, p != MAP_FAILED else { return nil }
  return p
}
