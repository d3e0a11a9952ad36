import ArgumentParser
import Glibc
import LKMDevice
import LKMInterface
import LKMToolSupport

/// modunload(8): unload a module by id or name.
///
/// The corresponding OpenBSD code is sbin/modunload/modunload.c.
@main
struct ModUnload: ParsableCommand {
  static let synopsis = "modunload [-f] [-i id] [-n name] [-p postunload]"
  static let configuration = CommandConfiguration(commandName: "modunload", usage: synopsis)

  /// Not OpenBSD's: remove the module without running its unload hook (for one whose hook
  /// faults); the kernel puts back the tables it registered.
  @Flag(name: .customShort("f")) var force = false
  @Option(name: .customShort("i", allowingJoined: true)) var id: String?
  @Option(name: .customShort("n", allowingJoined: true)) var name: String?
  @Option(name: .customShort("p", allowingJoined: true)) var postunload: String?
  @OptionGroup var device: DeviceOption

  static func main() {
    BSD.progname = "modunload"
    let arguments = Array(CommandLine.arguments.dropFirst())
    if BSD.checkOptions(arguments.filter { !$0.hasPrefix("--device") }, "fi:n:p:") { BSD.usage(synopsis) }
    guard let command = try? parse(arguments), command.id != nil || command.name != nil else {
      BSD.usage(synopsis)
    }
    var moduleID: Int32 = -1
    if let id = command.id {
      guard let number = BSD.number(id) else { BSD.errx(1, "not a valid number") }
      moduleID = number
    }
    let path = DeviceClient.defaultPath(command.device.device)
    let client: DeviceClient
    do { client = try DeviceClient(path: path, write: true) } catch { BSD.err(2, path, error.openBSDText) }
    let reply: Reply
    do {
      reply = try client.perform(
        .unload(id: moduleID, name: moduleID >= 0 ? nil : command.name, force: command.force))
    } catch {
      BSD.err(2, path, error.openBSDText)
    }
    switch reply.error {
    case nil: break
    case .EINVAL?: BSD.errx(3, "id out of range")
    case .ENOENT?: BSD.errx(3, "no such module")
    case _?:
      if !reply.lines.isEmpty {
        BSD.warn("LMUNLOAD", reply.errorText)
        for line in reply.lines { BSD.write("modunload: \(line)\n") }
        Glibc.exit(5)
      }
      BSD.err(5, "LMUNLOAD", reply.errorText)
    }
    client.close()
    if let postunload = command.postunload {
      let argv: [UnsafeMutablePointer<CChar>?] = [strdup(postunload), nil]
      execv(postunload, argv)
      BSD.err(16, "can't exec `\(postunload)'", String(cString: strerror(errno)))
    }
  }
}
