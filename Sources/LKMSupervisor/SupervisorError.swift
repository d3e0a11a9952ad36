/// lkmd cannot start or go on: the device path is unusable, the kernel process cannot be
/// started. The message is for people, lowercase, the host errno text last.
public struct SupervisorError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  init(_ what: String, errno: Int32) {
    message = "\(what): \(system_errorText(errno))"
  }
  public var description: String { message }
}
