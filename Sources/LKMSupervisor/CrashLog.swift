// Crash reports: what the supervisor knows when the kernel process dies or hangs, kept in
// memory for `lkmctl crashes` and written to the crash directory.
import LKMBase
import LKMInterface

final class CrashLog {
  /// Where reports are written (created 0700 if missing); nil: memory only.
  let directory: String?
  private(set) var reports: [CrashReport] = []
  private var count: Int32 = 0
  /// The most kept in memory and on disk.
  static let keep = 100

  init(directory: String?) {
    self.directory = directory
    if let directory {
      if (try? system_lstat(directory)) == nil { try? system_mkdir(directory, 0o700) }
    }
  }

  /// Records a crash: builds the report's text from what the supervisor knows and the shared
  /// area, writes it to the directory and returns it.
  func record(
    reason: String, request: String?, shared: SharedArea, boots: Int32
  ) -> CrashReport {
    count += 1
    let seconds = Int(realtimeNanoseconds() / 1_000_000_000)
    let entered = shared.entered
    var module: String?
    var text = "lkm crash report \(count)\n"
    text += "time: \(CrashLog.format(seconds)) (\(seconds))\n"
    text += "kernel boot: \(boots)\n"
    text += "reason: kernel process \(reason)\n"
    text += "request in flight: \(request ?? "none")\n"
    if let entered, entered.id >= 0 || !entered.what.isEmpty {
      let name = entered.name.isEmpty ? "id \(entered.id)" : "'\(entered.name)' (id \(entered.id))"
      module = entered.name.isEmpty ? nil : entered.name
      text +=
        entered.running
        ? "module code running: \(name) during \(entered.what)\n"
        : "module last entered: \(name) during \(entered.what) (it had returned)\n"
    } else {
      text += "module code running: none\n"
    }
    let modules = shared.modules
    text += "modules loaded: \(modules.count)\n"
    for m in modules {
      text +=
        "  \(m.id) \(m.name) 0x\(String(m.base, radix: 16)) 0x\(String(m.size, radix: 16))\(m.faulted ? " (faulted)" : "")\n"
    }
    let tail = shared.messages(limit: 16 * 1024)
    if let oops = CrashLog.lastOops(in: tail) {
      text += "last oops:\n" + oops.split(separator: "\n").map { "  \($0)\n" }.joined()
    }
    let lines = tail.split(separator: "\n", omittingEmptySubsequences: false).suffix(40)
    text += "message buffer (last \(lines.count) lines):\n" + lines.map { "  \($0)\n" }.joined()
    var path = ""
    if let directory {
      path = "\(directory)/crash-\(count)-\(seconds).txt"
      if !CrashLog.write(path, text) { path = "" }
    }
    let report = CrashReport(
      number: count, time: Int64(seconds), reason: reason, request: request, module: module,
      text: text, path: path)
    reports.append(report)
    if reports.count > CrashLog.keep {
      let old = reports.removeFirst()
      if !old.path.isEmpty { try? system_unlink(old.path) }
    }
    return report
  }

  /// The last oops in the message buffer's tail: from its `oops:` line to `kernel tainted`.
  static func lastOops(in text: String) -> String? {
    let bytes = Array(text.utf8)
    guard let start = lastIndex(of: Array("oops: ".utf8), in: bytes) else { return nil }
    let rest = Array(bytes[start...])
    let end = Array("kernel tainted\n".utf8)
    if let at = firstIndex(of: end, in: rest) {
      return String(decoding: rest[..<(at + end.count)], as: UTF8.self)
    }
    return String(decoding: rest.prefix(2048), as: UTF8.self)
  }

  static func lastIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    var i = haystack.count - needle.count
    while i >= 0 {
      if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
      i -= 1
    }
    return nil
  }

  static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count)
    where haystack[i..<(i + needle.count)].elementsEqual(needle) {
      return i
    }
    return nil
  }

  static func format(_ seconds: Int) -> String {
    system_formatUTC(seconds, "%Y-%m-%d %H:%M:%S UTC")
  }

  static func write(_ path: String, _ text: String) -> Bool {
    system_writeFile(path, Array(text.utf8), mode: 0o600)
  }
}
