import Glibc
import LKMDevice
import LKMInterface
import LKMToolSupport

/// modstat(8): list loaded modules.
///
/// The corresponding OpenBSD code is usr.bin/modstat/modstat.c.
@main
struct ModStat {
  // OpenBSD's synopsis, and this implementation's -v (the file each module came from, its
  // users) and --device.
  static let synopsis = "modstat [-v] [-i id] [-n name] [--device path]"
  static let help = """
    usage: \(synopsis)

    List the modules loaded in the lkm kernel: type, id, offset (the table slot the module
    took), load address, size in pages, the address of its declaration, version and name.

      -i id              only the module with this id
      -n name            only the module with this name
      -v                 also the reference count, the modules using each, and its file
      --device path      the lkm device (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm)
      -h, --help         print this help

    See modstat(8).

    """

  static func main() {
    unsafe BSD.progname = "modstat"
    guard
      let options = BSD.getopt(
        Array(CommandLine.arguments.dropFirst()), "vi:n:", long: ["device": true])
    else { BSD.usage(synopsis) }
    if options.help {
      BSD.write(help, to: 1)
      exit(0)
    }
    guard options.operands.isEmpty else { BSD.usage(synopsis) }
    let command = (id: options.values["i"], name: options.values["n"], verbose: options.has("v"))
    var moduleID: Int32 = -1
    if let id = command.id {
      guard let number = BSD.number(id) else { BSD.errx(1, "\(id): not a valid number") }
      moduleID = number
    }
    let client = BSD.openDevice(options.longValues["device"], write: false, openFailure: 2)
    let path = client.path
    var out = command.verbose ? ModstatFormat.verboseHeader : ModstatFormat.header
    let format = command.verbose ? ModstatFormat.verboseRow : ModstatFormat.row
    func flush() { BSD.write(out, to: 1); out = "" }
    if command.id != nil || command.name != nil {
      if moduleID < 0, let name = command.name, name.utf8.count >= 32 {
        flush()
        Glibc.exit(3)
      }
      let reply: Reply
      do {
        reply = try client.perform(.stat(id: moduleID, name: moduleID >= 0 ? nil : command.name))
      } catch {
        flush()
        BSD.deviceFailed(path, error, openFailure: 3)
      }
      flush()
      switch (reply.error, reply.body) {
      case (nil, .status(let s)): BSD.write(format(s), to: 1)
      case (.EINVAL?, _), (.ENOENT?, _): Glibc.exit(3)
      default:
        BSD.warn("LMSTAT", reply.errorText)
        BSD.oopsHint(reply)
        Glibc.exit(3)
      }
      return
    }
    // The listing: ids 0, 1, 2, … until EINVAL (past the highest); ENOENT (a gap) is skipped.
    // A module whose LKM_E_STAT fails is reported and the listing goes on (OpenBSD stopped at
    // the first error and exited 0); the exit status then says so.
    var failed = false
    var hinted = false
    var id: Int32 = 0
    while true {
      let reply: Reply
      do { reply = try client.perform(.stat(id: id, name: nil)) } catch {
        flush()
        if error.call == "open" { BSD.deviceFailed(path, error, openFailure: 2) }
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
        // Once for the listing, after the first failure an oops explains.
        if !hinted && reply.oops {
          BSD.oopsHint(reply)
          hinted = true
        }
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
