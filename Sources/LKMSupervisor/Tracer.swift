// Whether a debugger holds the kernel process: the supervisor does not take a kernel stopped
// at a breakpoint for a hung one.

/// Whether process `pid` is traced (TracerPid in /proc/PID/status is not 0).
func isTraced(pid: Int32) -> Bool {
  guard let buffer = try? system_readFile("/proc/\(pid)/status", limit: 4096) else { return false }
  let text = String(decoding: buffer, as: UTF8.self)
  for line in text.split(separator: "\n") where line.hasPrefix("TracerPid:") {
    let value = line.dropFirst("TracerPid:".count).trimmingPrefix { $0 == " " || $0 == "\t" }
    return (Int(value) ?? 0) != 0
  }
  return false
}
