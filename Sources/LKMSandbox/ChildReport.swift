import LKMInterface

/// What a sandboxed child writes for its parent when it finishes: the structured half of a
/// verdict (a child that dies writes nothing; the parent then judges by the signal).
package enum ChildReport: Sendable, Equatable {
  /// The linker (or reader) refused the module: its code and message lines.
  case rejected(code: String, lines: [String])
  /// The module linked; each command's return (nil: not run).
  case loaded(load: Int32, stat: Int32?, unload: Int32?)
  /// Module code faulted and the embedded kernel wrote an oops.
  case moduleFault(ModuleFaultSite)
  /// A kernel malloc(9) on the module's behalf found no memory (the kernel panics).
  case outOfMemory(String)
  /// The child could not enter the sandbox or read its request.
  case setupFailed(String)

  /// The most a report may hold (it must fit the shared report file).
  static let lineLimit = 64
  static let lineLength = 1024

  /// The report's wire form, as the child writes it into the report file.
  package func encoded() -> [UInt8] {
    var w = WireWriter()
    switch self {
    case .rejected(let code, let lines):
      w.int(UInt8(0))
      w.string(code)
      let kept = lines.prefix(ChildReport.lineLimit)
      w.int(UInt32(kept.count))
      for line in kept { w.string(String(line.utf8.prefix(ChildReport.lineLength))!) }
    case .loaded(let load, let stat, let unload):
      w.int(UInt8(1))
      w.int(load)
      for value in [stat, unload] {
        w.bool(value != nil)
        w.int(value ?? 0)
      }
    case .moduleFault(let site):
      w.int(UInt8(2))
      w.string(site.signal)
      w.optionalString(site.place)
      w.string(site.during)
      w.int(site.pc)
      w.int(site.address)
      w.string(site.detail)
    case .outOfMemory(let detail):
      w.int(UInt8(3))
      w.string(detail)
    case .setupFailed(let detail):
      w.int(UInt8(4))
      w.string(detail)
    }
    return w.bytes
  }

  init(decoding bytes: [UInt8]) throws(WireError) {
    var r = WireReader(bytes)
    switch try r.int(UInt8.self) {
    case 0:
      let code = try r.string()
      let count = try r.count(limit: ChildReport.lineLimit)
      var lines: [String] = []
      for _ in 0..<count { lines.append(try r.string()) }
      self = .rejected(code: code, lines: lines)
    case 1:
      let load = try r.int(Int32.self)
      var values: [Int32?] = []
      for _ in 0..<2 {
        let present = try r.bool()
        let value = try r.int(Int32.self)
        values.append(present ? value : nil)
      }
      self = .loaded(load: load, stat: values[0], unload: values[1])
    case 2:
      let signal = try r.string()
      let place = try r.optionalString()
      let during = try r.string()
      let pc = try r.int(UInt64.self)
      let address = try r.int(UInt64.self)
      let detail = try r.string()
      self = .moduleFault(
        ModuleFaultSite(
          signal: signal, place: place, during: during, pc: pc, address: address, detail: detail))
    case 3:
      self = .outOfMemory(try r.string())
    case 4:
      self = .setupFailed(try r.string())
    default:
      throw WireError("bad report kind")
    }
  }
}
