// The memory the supervisor shares with each kernel process it starts: the message buffer
// (kept across reboots, as OpenBSD's msgbuf survives a warm reboot) and the kernel's status.
// The kernel process, module code included, can write all of it: everything read here is
// bounded by the C accessors (lkmshared.h).
internal import CMsgbuf
import LKMInterface
import LKMSandbox

/// A module as the kernel's status lists it.
struct StatusModule: Sendable, Equatable {
  var id: Int32
  var name: String
  var base: UInt64
  var size: UInt64
  var faulted: Bool
}

/// The memory file and the supervisor's mapping of it.
@safe final class SharedArea {
  let fd: Int32
  let size: Int
  private let base: UnsafeMutablePointer<lkm_shared_t>

  init() throws(SupervisorError) {
    do { fd = try ChildProcess.memoryFile("lkm-msgbuf") } catch {
      throw SupervisorError(error.message)
    }
    size = lkm_shared_size()
    do { try system_ftruncate(fd, size) } catch {
      system_close(fd)
      throw SupervisorError("ftruncate of the message buffer", errno: error.rawValue)
    }
    let p: UnsafeMutableRawPointer
    do { unsafe p = unsafe try system_mapShared(fd, size) } catch {
      system_close(fd)
      throw SupervisorError("mmap of the message buffer", errno: error.rawValue)
    }
    unsafe base = unsafe p.bindMemory(to: lkm_shared_t.self, capacity: 1)
    unsafe lkm_shared_init(base)
  }

  deinit {
    unsafe system_munmap(base, size)
    system_close(fd)
  }

  /// Puts the header back if a kernel overwrote it (the text keeps what it can).
  func repair() {
    if unsafe lkm_shared_valid(base) == 0 {
      unsafe base.pointee.magic = LKM_SHARED_MAGIC
      unsafe base.pointee.size = UInt32(MemoryLayout<lkm_shared_t>.size)
    }
  }

  /// Appends text to the message buffer.
  func log(_ text: String) {
    var bytes = Array(text.utf8)
    unsafe bytes.withUnsafeMutableBytes { raw in
      unsafe raw.withMemoryRebound(to: CChar.self) {
        unsafe lkm_msgbuf_write(base, $0.baseAddress!, $0.count)
      }
    }
  }

  /// The message buffer, oldest first (at most `limit` bytes: the newest).
  func messages(limit: Int = Int(LKM_MSGBUF_SIZE)) -> String {
    var bytes = [UInt8](repeating: 0, count: min(limit, Int(LKM_MSGBUF_SIZE)))
    let n = unsafe bytes.withUnsafeMutableBytes { raw in
      unsafe raw.withMemoryRebound(to: CChar.self) {
        unsafe lkm_msgbuf_read(base, $0.baseAddress, $0.count)
      }
    }
    return String(decoding: bytes[0..<n], as: UTF8.self)
  }

  /// The message buffer, oldest first, with the time of each of its lines (0 where the records
  /// kept beside it do not say: see ``MessageTimes``).
  func timedMessages() -> (text: String, lineTimes: [Int64]) {
    var bytes = [UInt8](repeating: 0, count: Int(LKM_MSGBUF_SIZE))
    var from: UInt64 = 0
    let n = unsafe bytes.withUnsafeMutableBytes { raw in
      unsafe raw.withMemoryRebound(to: CChar.self) {
        unsafe lkm_msgbuf_read_from(base, $0.baseAddress, $0.count, &from)
      }
    }
    bytes.removeSubrange(n...)
    var records = [lkm_msgbuf_stamp_t](
      repeating: lkm_msgbuf_stamp_t(), count: Int(LKM_MSGBUF_STAMPS))
    let count = unsafe lkm_msgbuf_stamps(base, from, from + UInt64(n), &records, records.count)
    let stamps = records[0..<count].map {
      MessageTimes.Stamp(at: $0.at, length: $0.length, nanoseconds: $0.ns)
    }
    return (
      String(decoding: bytes, as: UTF8.self),
      MessageTimes.lineTimes(of: bytes, from: from, stamps: stamps)
    )
  }

  /// The modules the kernel listed as loaded.
  var modules: [StatusModule] {
    var list: [StatusModule] = []
    for i in unsafe 0..<lkm_status_module_count(base) {
      var m = lkm_status_module_t()
      guard unsafe lkm_status_module_at(base, i, &m) == 0 else { continue }
      var name = m.name
      let text = unsafe withUnsafeBytes(of: &name) {
        unsafe String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
      }
      list.append(
        StatusModule(id: m.id, name: text, base: m.base, size: m.size, faulted: m.faulted != 0))
    }
    return list
  }

  /// The module whose code the kernel entered last, whether it was still running, and what
  /// the call was (`LKM_E_LOAD`).
  var entered: (id: Int32, name: String, running: Bool, what: String)? {
    var id: Int32 = -1
    var running: Int32 = 0
    var what = [CChar](repeating: 0, count: 80)
    var name = [CChar](repeating: 0, count: 40)
    unsafe lkm_status_entered(base, &id, &running, &what, what.count, &name, name.count)
    guard id >= 0 || running != 0 || what[0] != 0 else { return nil }
    func string(_ chars: [CChar]) -> String {
      String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return (id, string(name), running != 0, string(what))
  }

  /// Since when the kernel has held its big lock (CLOCK_MONOTONIC nanoseconds), or 0.
  var lockSince: UInt64 { unsafe lkm_status_lock_since(base) }

  /// How many kernels have used the area (boots).
  var boots: Int32 { unsafe base.pointee.boots }
}
