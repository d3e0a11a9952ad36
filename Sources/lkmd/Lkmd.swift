import ArgumentParser
import Glibc
import LKMDevice
import LKMInterface
import LKMSupervisor

@main
struct Lkmd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lkmd",
    abstract: "The lkm kernel: serves /dev/lkm on a Unix socket and runs modules in a supervised kernel process.",
    discussion: """
      Runs in the foreground and prints "lkmd: ready on DEVICE" once it accepts requests. \
      lkmd is a supervisor: modules run in its child, the kernel process, which it restarts \
      ("reboots") when a module kills or hangs it; the message buffer and the device survive. \
      Kernel printf output (the console) goes to standard output. On SIGTERM or SIGINT it \
      unloads every module in reverse load order and exits 0.
      """)

  @Option(help: "The device socket (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm).")
  var device: String?

  @Option(help: "The initial securelevel; above 0, only stat requests are allowed.")
  var securelevel: Int32 = 0

  @Flag(help: "Also resolve modules against the host C library, after the kernel's symbols (weakens containment: module code may then call the C library).")
  var hostSymbols = false

  @Option(help: "Seconds module code may run in one call before it is interrupted (0: never).")
  var watchdog: UInt32 = 10

  @Option(help: "The largest module accepted, in bytes.")
  var objectLimit: Int = 64 << 20

  @Flag(help: """
    Run every module in the sandbox first (lkm-sandbox-child: link, LKM_E_LOAD, LKM_E_STAT, \
    LKM_E_UNLOAD in a filtered child) and refuse it unless the verdict is 'loaded' with \
    LKM_E_LOAD returning 0. The verdict goes to the message buffer.
    """)
  var trialLoad = false

  @Option(help: "A file of modload command lines, one per line, run at every boot of the kernel.")
  var boot: String?

  @Option(help: "Where crash reports are written (default: crashes/ next to the device).")
  var crashDirectory: String?

  @Option(help: "Seconds a session holding the device may stay without a request (1 s while others wait).")
  var idleTimeout: Double = 10

  @Option(help: "Seconds the kernel may take to answer one request before it is killed and rebooted.")
  var hangLimit: Double = 30

  @Option(help: "Client connections at once.")
  var maxConnections: Int = 128

  @Flag(help: """
    Keep /tmp/perf-PID.map (PID: the kernel process) listing every loaded module's functions, \
    for perf report; an unloaded module's lines stay, marked, until its addresses are reused.
    """)
  var perfMap = false

  mutating func run() throws {
    var configuration = Supervisor.Configuration(device: DeviceClient.defaultPath(device))
    configuration.kernel.securelevel = securelevel
    configuration.kernel.hostSymbols = hostSymbols
    configuration.kernel.watchdogSeconds = watchdog
    configuration.kernel.objectLimit = objectLimit
    configuration.kernel.perfMap = perfMap
    var name = [CChar](repeating: 0, count: 256)
    if gethostname(&name, 255) == 0 { configuration.kernel.hostname = String(cString: name) }
    configuration.limits.objectBytes = objectLimit
    configuration.limits.idleSeconds = idleTimeout
    configuration.limits.hangSeconds = max(hangLimit, Double(watchdog) + 5)
    configuration.limits.connections = max(maxConnections, 4)
    configuration.trialLoad = trialLoad
    configuration.bootFile = boot
    configuration.crashDirectory = crashDirectory
    Supervisor.installStopHandlers()
    let supervisor: Supervisor
    do { supervisor = try Supervisor(configuration: configuration) } catch {
      throw ValidationError(error.message)
    }
    print("lkmd: ready on \(configuration.device)")
    fflush(nil)
    supervisor.run()
    print("lkmd: stopped")
    fflush(nil)
  }
}
