// perf's map of JIT code (linux tools/perf/Documentation/jit-interface.txt): /tmp/perf-PID.map,
// one function a line, `START SIZE NAME`, read by `perf report` when it resolves samples in
// anonymous executable memory of process PID.
import Glibc

/// The map of one process, kept as modules come and go.
///
/// perf reads the file when it reports, possibly long after the samples: the file is never
/// truncated while modules are live, only replaced whole (a temporary file renamed over it, so a
/// reader sees the old map or the new one). A module's lines stay after it unloads, marked
/// ` (unloaded)`, so that samples taken while it was loaded still resolve, until another module
/// is placed over its addresses (then they would misattribute the new module's samples and are
/// dropped) or more than ``unloadedLimit`` modules have unloaded since.
@safe public final class PerfMap: @unchecked Sendable {
  public let path: String
  struct Entry {
    var key: Int
    var lines: [String]
    var ranges: [Range<UInt64>]
  }
  private var live: [Entry] = []
  private var unloaded: [Entry] = []
  public static let unloadedLimit = 64
  private var lock = unsafe pthread_mutex_t()

  /// The map of process `pid` (this one by default). Nothing is written until a module is added.
  public init(pid: Int32? = nil) {
    path = "/tmp/perf-\(pid ?? getpid()).map"
    unsafe pthread_mutex_init(&lock, nil)
  }

  /// Adds a module's functions under `key` (a module id), and writes the map.
  @discardableResult
  public func add(
    key: Int, functions: [(address: UInt64, size: UInt64, name: String)], suffix: String = ""
  )
    -> Bool
  {
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    let ranges = functions.map { $0.address..<($0.address + max($0.size, 1)) }
    let lines = functions.map { f in
      String(f.address, radix: 16) + " " + String(max(f.size, 1), radix: 16) + " " + f.name + suffix
    }
    live.removeAll { $0.key == key }
    // Unloaded modules whose addresses the new one reuses.
    unloaded.removeAll { old in
      old.ranges.contains { r in ranges.contains { $0.overlaps(r) } }
    }
    live.append(Entry(key: key, lines: lines, ranges: ranges))
    return write()
  }

  /// Marks the module `key` unloaded, and writes the map.
  @discardableResult
  public func remove(key: Int) -> Bool {
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    guard let i = live.firstIndex(where: { $0.key == key }) else { return true }
    var entry = live.remove(at: i)
    entry.lines = entry.lines.map { $0 + " (unloaded)" }
    unloaded.append(entry)
    if unloaded.count > PerfMap.unloadedLimit {
      unloaded.removeFirst(unloaded.count - PerfMap.unloadedLimit)
    }
    return write()
  }

  /// Renames the suffix of a live module's lines (` [file.o]` → ` [name]` once it declared its
  /// name), and writes the map.
  @discardableResult
  public func relabel(key: Int, from old: String, to new: String) -> Bool {
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    guard let i = live.firstIndex(where: { $0.key == key }), old != new else { return true }
    live[i].lines = live[i].lines.map {
      $0.hasSuffix(old) ? String($0.dropLast(old.count)) + new : $0
    }
    return write()
  }

  /// The map's text as it is written.
  public var text: String {
    unsafe pthread_mutex_lock(&lock)
    defer { unsafe pthread_mutex_unlock(&lock) }
    return render()
  }

  private func render() -> String {
    var out = ""
    for entry in unloaded + live {
      for line in entry.lines { out += line + "\n" }
    }
    return out
  }

  /// Writes the map to a temporary file and renames it over the map.
  private func write() -> Bool {
    let temporary = path + ".new"
    let fd = unsafe open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { return false }
    var bytes = Array(render().utf8)
    var done = 0
    var ok = true
    unsafe bytes.withUnsafeMutableBytes { raw in
      while done < raw.count {
        let n = unsafe Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
          ok = false
          break
        }
        done += n
      }
    }
    close(fd)
    guard ok, unsafe rename(temporary, path) == 0 else {
      unsafe unlink(temporary)
      return false
    }
    return true
  }
}
