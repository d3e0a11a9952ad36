public import LKMKernel
import LKMDevice

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
  /// The entry function (modload's choice: `-e`, `xxxinit`, or `BASENAME_lkmentry`).
  public var entry: String
  public var mode: Mode

  public init(inputs: [LoadRequest.Input], entry: String, mode: Mode = .lifecycle) {
    self.inputs = inputs
    self.entry = entry
    self.mode = mode
  }

  /// The largest request accepted (as lkmd's object limit).
  static let byteLimit = 64 << 20

  func encoded() -> [UInt8] {
    var w = WireWriter()
    w.int(mode.rawValue)
    w.string(entry)
    w.int(UInt32(inputs.count))
    for input in inputs {
      w.string(input.name)
      w.data(input.bytes)
    }
    return w.bytes
  }

  init(decoding bytes: [UInt8]) throws(WireError) {
    var r = WireReader(bytes)
    guard let mode = Mode(rawValue: try r.int(UInt8.self)) else { throw WireError("bad mode") }
    self.mode = mode
    entry = try r.string()
    let count = try r.count(limit: 4096)
    inputs = []
    for _ in 0..<count {
      let name = try r.string()
      inputs.append(.init(name: name, bytes: try r.data(limit: SandboxRequest.byteLimit)))
    }
  }
}
