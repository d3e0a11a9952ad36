public import LKMInterface

/// What the sandbox is asked to do with one module: its objects and archives, its entry, and
/// whether to run its lifecycle or only link it.
public struct SandboxRequest: Sendable {
  /// How far the child goes.
  public enum Mode: UInt8, Sendable {
    /// Read, resolve, lay out, relocate and protect; run nothing of the module (IFUNC
    /// resolvers aside, which the linker calls).
    case linkOnly = 0
    /// Link, then run the constructors and the entry with `LKM_E_LOAD`, `LKM_E_STAT` and
    /// `LKM_E_UNLOAD`, as `modload`, `modstat` and `modunload` would.
    case lifecycle = 1
  }

  public var inputs: [LoadRequest.Input]
  /// The entry function (modload's `-e`), or nil for modload's default rule (`xxxinit`, then
  /// `BASENAME_lkmentry`).
  public var entry: String?
  public var mode: Mode

  public init(inputs: [LoadRequest.Input], entry: String?, mode: Mode = .lifecycle) {
    self.inputs = inputs
    self.entry = entry
    self.mode = mode
  }

  /// The largest request accepted (as lkmd's object limit).
  package static let byteLimit = 64 << 20

  /// The request's wire form, as the parent sends it (one frame's bytes).
  package func encoded() -> [UInt8] {
    var w = WireWriter()
    w.int(mode.rawValue)
    w.optionalString(entry)
    w.int(UInt32(inputs.count))
    for input in inputs {
      w.string(input.name)
      w.data(input.bytes)
    }
    return w.bytes
  }

  /// Decodes what ``encoded()`` wrote. Hand-written rather than through ``WireReader``, whose
  /// generic reads (unspecialized across modules) were a tenth of each sandboxed run.
  package init(decoding bytes: [UInt8]) throws(WireError) {
    var position = 0
    func u32() throws(WireError) -> Int {
      guard bytes.count - position >= 4 else { throw WireError("truncated message") }
      defer { position += 4 }
      return Int(loadLittleEndian(UInt32.self, from: bytes, at: position))
    }
    func data(limit: Int) throws(WireError) -> [UInt8] {
      let count = try u32()
      guard count <= limit else { throw WireError("field of \(count) bytes is over its limit") }
      guard bytes.count - position >= count else { throw WireError("truncated message") }
      defer { position += count }
      return Array(bytes[position..<(position + count)])
    }
    guard let first = bytes.first, let mode = Mode(rawValue: first) else {
      throw WireError("bad mode")
    }
    position = 1
    self.mode = mode
    guard position < bytes.count else { throw WireError("truncated message") }
    let hasEntry = bytes[position] != 0
    position += 1
    entry = hasEntry ? String(decoding: try data(limit: 1 << 20), as: UTF8.self) : nil
    let count = try u32()
    guard count <= 4096 else { throw WireError("count \(count) is over its limit 4096") }
    inputs = []
    for _ in 0..<count {
      let name = String(decoding: try data(limit: 1 << 20), as: UTF8.self)
      inputs.append(.init(name: name, bytes: try data(limit: SandboxRequest.byteLimit)))
    }
  }
}
