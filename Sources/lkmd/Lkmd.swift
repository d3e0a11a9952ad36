import ArgumentParser
import Glibc
import LKMBase
import LKMDevice
import LKMInterface
import LKMSupervisor
import ModuleLinker

@main
struct Lkmd: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lkmd",
    abstract:
      "The lkm kernel: serves /dev/lkm on a Unix socket and runs modules in a supervised kernel process.",
    discussion: """
      Runs in the foreground and prints "lkmd: ready on DEVICE" once it accepts requests. \
      lkmd is a supervisor: modules run in its child, the kernel process, which it restarts \
      ("reboots") when a module kills or hangs it; the message buffer and the device survive. \
      Kernel printf output (the console) goes to standard output. On SIGTERM or SIGINT it \
      unloads every module in reverse load order and exits 0. Linked images are cached (in \
      $XDG_CACHE_HOME/lkm, else ~/.cache/lkm): a module whose bytes, options and symbols are \
      unchanged maps its cached image instead of linking; LKM_NO_CACHE=1 or --no-cache turns \
      the cache off. Errors go to standard error as "lkmd: <what>": exit 1 when lkmd cannot \
      start (the device, the boot file, the cache, the kernel process), 64 for a usage error. \
      See lkmd(8).
      """)

  @Option(
    help: ArgumentHelp(
      "The device socket (default: $LKM_DEVICE, else /tmp/lkm-UID/lkm).", valueName: "path"))
  var device: String?

  @Option(
    help: ArgumentHelp(
      "The initial securelevel; above 0, only stat requests are allowed.", valueName: "level"))
  var securelevel: Int32 = 0

  @Flag(
    help:
      "Also resolve modules against the host C library, after the kernel's symbols (weakens containment: module code may then call the C library)."
  )
  var hostSymbols = false

  @Option(
    help: ArgumentHelp(
      "Seconds module code may run in one call before it is interrupted (0: never).",
      valueName: "seconds"))
  var watchdog: UInt32 = 10

  @Option(help: ArgumentHelp("The largest module accepted, in bytes.", valueName: "bytes"))
  var objectLimit: Int = 64 << 20

  @Flag(
    help: """
      Run every module in the sandbox first (lkm-sandbox-child: link, LKM_E_LOAD, LKM_E_STAT, \
      LKM_E_UNLOAD in a filtered child) and refuse it unless the verdict is 'loaded' with \
      LKM_E_LOAD returning 0. The verdict goes to the message buffer.
      """)
  var trialLoad = false

  @Option(
    help: ArgumentHelp(
      "A file of modload command lines, one per line, run at every boot of the kernel.",
      valueName: "file"))
  var boot: String?

  @Option(
    help: ArgumentHelp(
      "Where crash reports are written (default: crashes/ next to the device).",
      valueName: "directory"))
  var crashDirectory: String?

  @Option(
    help: ArgumentHelp(
      "Seconds a session holding the device may stay without a request (1 s while others wait).",
      valueName: "seconds"))
  var idleTimeout: Double = 10

  @Option(
    help: ArgumentHelp(
      "Seconds the kernel may hold its lock, or leave requests unanswered, before it is killed and rebooted (at least the watchdog + 5).",
      valueName: "seconds"))
  var hangLimit: Double = 30

  @Option(help: ArgumentHelp("Client connections at once (at least 4).", valueName: "count"))
  var maxConnections: Int = 128

  @Flag(
    help: """
      Keep /tmp/perf-PID.map (PID: the kernel process) listing every loaded module's functions, \
      for perf report; an unloaded module's lines stay, marked, until its addresses are reused.
      """)
  var perfMap = false

  @Option(
    help: ArgumentHelp(
      "Cache linked images in this directory (default: $XDG_CACHE_HOME/lkm, else ~/.cache/lkm).",
      valueName: "directory"))
  var cache: String?

  @Flag(help: "Link every module; use no cache of linked images.")
  var noCache = false

  /// Usage errors for values the types accept but lkmd cannot use.
  func validate() throws {
    guard objectLimit > 0 else {
      throw ValidationError("--object-limit must be a positive number of bytes")
    }
    guard idleTimeout.isFinite, idleTimeout > 0 else {
      throw ValidationError("--idle-timeout must be a positive number of seconds")
    }
    guard hangLimit.isFinite, hangLimit > 0 else {
      throw ValidationError("--hang-limit must be a positive number of seconds")
    }
    guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
    if cache != nil && noCache {
      throw ValidationError("--cache and --no-cache cannot be used together")
    }
  }

  /// Not ArgumentParser's main: errors are `lkmd: …` (its "Error: " replaced, as lkmctl does),
  /// usage errors exit 64 with the usage, and lkmd's own failures to start exit 1 without it.
  static func main() {
    // -h parses as ArgumentParser's help command, which says so by throwing when run.
    var command: any ParsableCommand
    do { command = try parseAsRoot() } catch { exitParsing(error) }
    do { try command.run() } catch let error as SupervisorError {
      writeStandardError("lkmd: \(error)\n")
      Glibc.exit(1)
    } catch {
      exitParsing(error)
    }
  }

  /// Help on stdout and exit 0, or a usage error: `lkmd: WHAT`, the usage, exit 64.
  static func exitParsing(_ error: any Error) -> Never {
    let code = exitCode(for: error)
    guard code != .success else { exit(withError: error) }
    var text = fullMessage(for: error)
    if text.hasPrefix("Error: ") { text.removeFirst(7) }
    writeStandardError("lkmd: \(text)\n")
    Glibc.exit(code.rawValue)
  }

  @Option(
    help: ArgumentHelp(
      "Export the kernel's /dev on the host directory DIR through FUSE: reads, writes and ioctls of DIR/NAME reach the driver.",
      valueName: "DIR"))
  var hostDev: String?

  mutating func run() throws {
    var configuration = Supervisor.Configuration(device: DeviceClient.defaultPath(device))
    configuration.kernel.securelevel = securelevel
    configuration.kernel.hostSymbols = hostSymbols
    configuration.kernel.watchdogSeconds = watchdog
    configuration.kernel.objectLimit = objectLimit
    configuration.kernel.perfMap = perfMap
    configuration.kernel.noCache = noCache
    if let cache, !noCache {
      // Made (or refused) here, before anything runs, and passed on as an absolute path.
      var directory = cache
      if !directory.hasPrefix("/") {
        var buffer = [CChar](repeating: 0, count: 4096)
        if unsafe getcwd(&buffer, buffer.count) != nil {
          directory =
            String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            + "/" + directory
        }
      }
      // A directory lkmd cannot use is a failure to start (exit 1), as the device's.
      do { _ = try ImageCache(directory: directory) } catch {
        throw SupervisorError("cannot use the cache '\(cache)': \(error.message)")
      }
      configuration.kernel.cacheDirectory = directory
    }
    var name = [CChar](repeating: 0, count: 256)
    if unsafe gethostname(&name, 255) == 0 { configuration.kernel.hostname = String(cString: name) }
    configuration.limits.objectBytes = objectLimit
    configuration.limits.idleSeconds = idleTimeout
    configuration.limits.hangSeconds = max(hangLimit, Double(watchdog) + 5)
    configuration.limits.connections = max(maxConnections, 4)
    configuration.trialLoad = trialLoad
    configuration.bootFile = boot
    configuration.crashDirectory = crashDirectory
    Supervisor.installStopHandlers()
    let supervisor: Supervisor
    // A failure to start is lkmd's, not a usage error: main prints it, exit 1.
    supervisor = try Supervisor(configuration: configuration)
    if let hostDev { try supervisor.exportDevices(on: hostDev) }
    print("lkmd: ready on \(configuration.device)")
    fflush(nil)
    supervisor.run()
    print("lkmd: stopped")
    fflush(nil)
  }
}
