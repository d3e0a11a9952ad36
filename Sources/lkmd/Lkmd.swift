import ArgumentParser
import Glibc
import LKMDevice
import LKMKernel

@main
struct Lkmd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lkmd",
    abstract: "The lkm kernel: links modules into itself and serves /dev/lkm on a Unix socket.",
    discussion: """
      Runs in the foreground and prints "lkmd: ready on DEVICE" once it accepts requests. \
      Kernel printf output (the console) goes to standard output. On SIGTERM or SIGINT it \
      unloads every module in reverse load order and exits 0.
      """)

  @Option(help: "The device socket (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm).")
  var device: String?

  @Option(help: "The initial securelevel; above 0, only stat requests are allowed.")
  var securelevel: Int32 = 0

  @Flag(help: "Also resolve modules against the host C library, after the kernel's symbols.")
  var hostSymbols = false

  @Option(help: "Seconds module code may run in one call before it is interrupted (0: never).")
  var watchdog: UInt32 = 10

  @Option(help: "The largest module accepted, in bytes.")
  var objectLimit: Int = 64 << 20

  mutating func run() throws {
    var options = Kernel.Options()
    options.securelevel = securelevel
    options.hostSymbols = hostSymbols
    options.watchdogSeconds = watchdog
    var name = [CChar](repeating: 0, count: 256)
    if gethostname(&name, 255) == 0 { options.hostname = String(cString: name) }
    let kernel: Kernel
    do { kernel = try Kernel(options: options) } catch {
      throw ValidationError("cannot start the kernel: \(error.text)")
    }
    let path = DeviceClient.defaultPath(device)
    var limits = DeviceServer.Limits()
    limits.objectBytes = objectLimit
    let server: DeviceServer
    do { server = try DeviceServer(path: path, kernel: kernel, limits: limits) } catch {
      throw ValidationError("\(error)")
    }
    DeviceServer.installStopHandlers()
    print("lkmd: ready on \(path)")
    fflush(nil)
    server.run()
    kernel.shutdown()
    print("lkmd: stopped")
    fflush(nil)
  }
}
