// Whether a debugger holds the kernel process: the supervisor does not take a kernel stopped
// at a breakpoint for a hung one.
import Glibc

/// Whether process `pid` is traced (TracerPid in /proc/PID/status is not 0).
func isTraced(pid: Int32) -> Bool {
  let fd = open("/proc/\(pid)/status", O_RDONLY | O_CLOEXEC)
  guard fd >= 0 else { return false }
  defer { close(fd) }
  var buffer = [UInt8](repeating: 0, count: 4096)
  let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
  guard n > 0 else { return false }
  let text = String(decoding: buffer[0..<n], as: UTF8.self)
  for line in text.split(separator: "\n") where line.hasPrefix("TracerPid:") {
    let value = line.dropFirst("TracerPid:".count).trimmingPrefix { $0 == " " || $0 == "\t" }
    return (Int(value) ?? 0) != 0
  }
  return false
}
