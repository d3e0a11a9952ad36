import ArgumentParser
import Glibc
import LKMDevice
import LKMKernel
import LKMSandbox

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

  @Flag(help: """
    Run every module in the sandbox first (lkm-sandbox-child: link, LKM_E_LOAD, LKM_E_STAT, \
    LKM_E_UNLOAD in a filtered child) and refuse it unless the verdict is 'loaded' with \
    LKM_E_LOAD returning 0. The verdict goes to the message buffer.
    """)
  var trialLoad = false

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
    if trialLoad {
      var configuration = Sandbox.Configuration()
      configuration.hostSymbols = hostSymbols
      configuration.timeout = Double(watchdog == 0 ? 10 : watchdog)
      let sandbox: Sandbox
      do { sandbox = try Sandbox(configuration: configuration) } catch {
        throw ValidationError("--trial-load: \(error)")
      }
      server.vetLoad = { request in Lkmd.trial(request, in: sandbox, kernel: kernel) }
    }
    DeviceServer.installStopHandlers()
    print("lkmd: ready on \(path)")
    fflush(nil)
    server.run()
    kernel.shutdown()
    print("lkmd: stopped")
    fflush(nil)
  }

  /// --trial-load: the module in the sandbox first; the verdict to the message buffer.
  static func trial(_ request: LoadRequest, in sandbox: Sandbox, kernel: Kernel) -> LoadRefusal? {
    let name = request.inputs.first?.name ?? "module"
    let verdict: SandboxVerdict
    do {
      verdict = try sandbox.run(SandboxRequest(inputs: request.inputs, entry: request.entry))
    } catch {
      kernel.log("lkmd: trial load of '\(name)': the sandbox failed: \(error)\n")
      return LoadRefusal(linkFailed: false, errno: .EPERM, lines: ["sandbox: \(error)"])
    }
    kernel.log("lkmd: trial load of '\(name)': \(verdict.description)\n")
    if verdict.allowsLoad { return nil }
    if case .rejected(_, let message) = verdict {
      return LoadRefusal(linkFailed: true, errno: .ENOEXEC, lines: [message])
    }
    var errno = KernelErrno.EPERM
    if case .loaded(let load, _, _) = verdict { errno = KernelErrno(load) }
    if case .moduleFault = verdict { errno = .EFAULT }
    return LoadRefusal(linkFailed: false, errno: errno, lines: ["sandbox: \(verdict.description)"])
  }
}
