// Safety: the report file is a memory file of `ReportFile.size` bytes that the parent sizes
// before each run; the child maps it once (MAP_SHARED) and writes only inside the mapping.

/// The shared report file's layout: a header of four `Int32`s, then the report.
///
/// - offset 0: the phase (0 not started, 1 loader, 2 module code, 3 kernel after module code,
///   4 report written), stored by the child and, for 2 and 3, by the kernel's guarded calls;
/// - offset 4: the report's length;
/// - offset 8: 1 once an allocation failed (the address-space limit was reached);
/// - offset 16: the report (``ChildReport``, encoded).
package enum ReportFile {
  package static let size = 256 * 1024
  package static let headerSize = 16
  package static let phaseLoader: Int32 = 1
  package static let phaseModule: Int32 = 2
  package static let phaseAfterModule: Int32 = 3
  package static let phaseDone: Int32 = 4
}

/// The child's view: the report file mapped at descriptor 3.
@safe package struct ReportMapping {
  let base: UnsafeMutableRawPointer

  /// Maps descriptor `fd` (the parent sized it); nil if it cannot.
  package init?(fd: Int32) {
    guard let p = unsafe system_mapShared(fd, ReportFile.size) else { return nil }
    unsafe base = unsafe p
  }

  package var phaseWord: UnsafeMutablePointer<Int32> {
    unsafe base.assumingMemoryBound(to: Int32.self)
  }

  package func setPhase(_ phase: Int32) { unsafe phaseWord.pointee = phase }

  /// The word a failed allocation sets (see lkm-sandbox-child's allocation forwarders).
  package var outOfMemoryWord: UnsafeMutablePointer<Int32> {
    unsafe (base + 8).assumingMemoryBound(to: Int32.self)
  }

  /// Writes the report (cut to what fits), then its length, then the phase `done`.
  package func write(_ report: ChildReport) {
    var bytes = report.encoded()
    let room = ReportFile.size - ReportFile.headerSize
    if bytes.count > room {
      bytes = ChildReport.setupFailed("report of \(bytes.count) bytes does not fit").encoded()
    }
    unsafe bytes.withUnsafeBytes {
      unsafe (base + ReportFile.headerSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
    }
    unsafe (base + 4).storeBytes(of: Int32(bytes.count), as: Int32.self)
    setPhase(ReportFile.phaseDone)
  }
}
