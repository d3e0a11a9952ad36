import Glibc
import LKMDevice
import LKMInterface
import LKMToolSupport

/// modunload(8): unload a module by id or name.
///
/// The corresponding OpenBSD code is sbin/modunload/modunload.c.
@main
struct ModUnload {
  static let synopsis = "modunload [-f] [-i id] [-n name] [-p postunload] [--device path]"
  static let help = """
    usage: \(synopsis)

    Unload a module from the running lkm kernel: its entry is called with LKM_E_UNLOAD, then
    the kernel undoes what the module registered and frees its memory.

      -f                 force: remove the module without running its unload hook
      -i id              the module's id (as modstat shows it)
      -n name            the module's name (its MOD_* declaration's, as modstat shows it)
      -p postunload      run this program after unloading
      --device path      the lkm device (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm)
      -h, --help         print this help

    See modunload(8).

    """

  static func main() {
    unsafe BSD.progname = "modunload"
    guard
      let options = BSD.getopt(
        Array(CommandLine.arguments.dropFirst()), "fi:n:p:", long: ["device": true])
    else { BSD.usage(synopsis) }
    if options.help {
      BSD.write(help, to: 1)
      exit(0)
    }
    let id = options.values["i"]
    let name = options.values["n"]
    guard options.operands.isEmpty, id != nil || name != nil else { BSD.usage(synopsis) }
    var moduleID: Int32 = -1
    if let id {
      guard let number = BSD.number(id) else { BSD.errx(1, "not a valid number") }
      moduleID = number
    }
    let client = BSD.openDevice(options.longValues["device"], write: true, openFailure: 2)
    let reply: Reply
    do {
      reply = try client.perform(
        .unload(id: moduleID, name: moduleID >= 0 ? nil : name, force: options.has("f")))
    } catch {
      BSD.deviceFailed(client.path, error, openFailure: 2)
    }
    // What the unload hook uprintf-ed reaches modunload's terminal, as on OpenBSD.
    BSD.printOutput(reply.output)
    switch reply.error {
    case nil: break
    case .EINVAL?: BSD.errx(3, "id out of range")
    case .ENOENT?: BSD.errx(3, "no such module")
    case _?:
      if !reply.lines.isEmpty {
        BSD.warn("LMUNLOAD", reply.errorText)
        for line in reply.lines { BSD.write("modunload: \(line)\n") }
        BSD.oopsHint(reply)
        Glibc.exit(5)
      }
      BSD.fail(5, "LMUNLOAD", reply)
    }
    client.close()
    if let postunload = options.values["p"] {
      let argv: [UnsafeMutablePointer<CChar>?] = unsafe [strdup(postunload), nil]
      unsafe execv(postunload, argv)
      BSD.err(16, "can't exec `\(postunload)'", unsafe String(cString: strerror(errno)))
    }
  }
}
