import ArgumentParser
import Glibc
import LKMDevice
import LKMInterface
import LKMToolSupport

/// modstat(8): list loaded modules.
///
/// The corresponding OpenBSD code is usr.bin/modstat/modstat.c.
@main
struct ModStat: ParsableCommand {
  // OpenBSD's synopsis; -v (reference counts and users) is this implementation's extension.
  static let synopsis = "modstat [-i id] [-n name]"
  static let configuration = CommandConfiguration(commandName: "modstat", usage: synopsis)

  @Option(name: .customShort("i", allowingJoined: true)) var id: String?
  @Option(name: .customShort("n", allowingJoined: true)) var name: String?
  @Flag(name: .customShort("v")) var verbose = false
  @OptionGroup var device: DeviceOption

  static func main() {
    BSD.progname = "modstat"
    let arguments = Array(CommandLine.arguments.dropFirst())
    if BSD.checkOptions(arguments.filter { !$0.hasPrefix("--device") }, "vi:n:") { BSD.usage(synopsis) }
    guard let command = try? parse(arguments) else { BSD.usage(synopsis) }
    var moduleID: Int32 = -1
    if let id = command.id {
      guard let number = BSD.number(id) else { BSD.errx(1, "\(id): not a valid number") }
      moduleID = number
    }
    let path = DeviceClient.defaultPath(command.device.device)
    let client: DeviceClient
    do { client = try DeviceClient(path: path, write: false) } catch { BSD.err(2, path, error.openBSDText) }
    var out = command.verbose ? ModstatFormat.verboseHeader : ModstatFormat.header
    let format = command.verbose ? ModstatFormat.verboseRow : ModstatFormat.row
    func flush() { BSD.write(out, to: 1); out = "" }
    if command.id != nil || command.name != nil {
      if moduleID < 0, let name = command.name, name.utf8.count >= 32 {
        flush()
        Glibc.exit(3)
      }
      let reply: Reply
      do { reply = try client.perform(.stat(id: moduleID, name: moduleID >= 0 ? nil : command.name)) } catch {
        flush()
        BSD.err(3, path, error.openBSDText)
      }
      flush()
      switch (reply.error, reply.body) {
      case (nil, .status(let s)): BSD.write(format(s), to: 1)
      case (.EINVAL?, _), (.ENOENT?, _): Glibc.exit(3)
      default:
        BSD.warn("LMSTAT", reply.errorText)
        Glibc.exit(3)
      }
      return
    }
    // The listing: ids 0, 1, 2, … until EINVAL (past the highest); ENOENT (a gap) is skipped.
    // A module whose LKM_E_STAT fails is reported and the listing goes on (OpenBSD stopped at
    // the first error and exited 0); the exit status then says so.
    var failed = false
    var id: Int32 = 0
    while true {
      let reply: Reply
      do { reply = try client.perform(.stat(id: id, name: nil)) } catch {
        flush()
        if error.call == "open" { BSD.err(2, path, error.openBSDText) }
        BSD.warn("LMSTAT", error.openBSDText)
        break
      }
      if reply.error == .EINVAL { break }
      if reply.error == .ENOENT {
        id += 1
        continue
      }
      if reply.error != nil {
        flush()
        BSD.warn("LMSTAT", "module \(id): \(reply.errorText)")
        failed = true
        if case .panic = reply.body { break }
        id += 1
        continue
      }
      if case .status(let s) = reply.body { out += format(s) }
      id += 1
    }
    flush()
    if failed { Glibc.exit(3) }
  }
}
