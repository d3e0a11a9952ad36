/// The sandbox itself could not run (the helper is missing, a pipe or memory file failed): no
/// verdict about the module.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
  /// Lowercase, general to specific, the host errno text last.
  public var message: String

  public init(_ message: String) { self.message = message }

  init(_ what: String, errno: Int32) {
    message = "\(what): \(system_errorText(errno))"
  }

  public var description: String { message }
}
