import LKMBase
// The supervisor's handle on one kernel process: the child, the channel and what is in flight.
import LKMInterface
import LKMSandbox

/// How the kernel process is started.
public struct KernelConfiguration: Sendable {
  /// The executable; default `$LKM_KERNEL`, else `lkm-kernel` next to lkmd.
  public var executable: String?
  public var securelevel: Int32 = 0
  public var hostname = "lkm"
  public var watchdogSeconds: UInt32 = 10
  public var hostSymbols = false
  public var objectLimit = 64 << 20
  /// The kernel process keeps /tmp/perf-PID.map of module functions (lkmd --perf-map).
  public var perfMap = false
  /// The cache of linked images module loads use (lkmd --cache DIR, an absolute path); nil:
  /// the standard one (`$XDG_CACHE_HOME/lkm`, else `~/.cache/lkm`, unless `LKM_NO_CACHE`).
  public var cacheDirectory: String?
  /// lkmd --no-cache: every load links.
  public var noCache = false
  public init() {}

  /// `lkm-kernel` in the running executable's directory.
  static func defaultExecutable() -> String {
    if let path = system_environment("LKM_KERNEL") { return path }
    let exe = system_executablePath()
    let directory = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast()
      .joined(separator: "/")
    return directory + "/lkm-kernel"
  }
}

/// One running kernel process.
final class KernelProcess {
  let child: ChildProcess
  /// The supervisor's end of the channel (non-blocking).
  let channel: Int32
  var decoder: FrameDecoder
  var output = OutputBuffer()
  /// When it was started (for the reboot time).
  let started: UInt64
  private(set) var ready = false

  /// Spawns the kernel process with the channel and the shared area.
  init(configuration: KernelConfiguration, shared: SharedArea) throws(SupervisorError) {
    let path = configuration.executable ?? KernelConfiguration.defaultExecutable()
    do { try system_checkExecutable(path) } catch {
      throw SupervisorError("cannot run the kernel '\(path)'", errno: error.rawValue)
    }
    let ends: (Int32, Int32)
    do { ends = try ChildProcess.socketPair() } catch { throw SupervisorError(error.message) }
    var arguments = [
      "--securelevel", "\(configuration.securelevel)", "--hostname", configuration.hostname,
      "--watchdog", "\(configuration.watchdogSeconds)",
      "--object-limit", "\(configuration.objectLimit)",
    ]
    if configuration.hostSymbols { arguments.append("--host-symbols") }
    if configuration.perfMap { arguments.append("--perf-map") }
    if configuration.noCache {
      arguments.append("--no-cache")
    } else if let directory = configuration.cacheDirectory {
      arguments += ["--cache", directory]
    }
    // No Swift backtracer (it would exec): the supervisor reports the death.
    var environment = ["SWIFT_BACKTRACE=enable=no"]
    for name in ["HOME", "XDG_CACHE_HOME", "LKM_NO_CACHE", "LKM_GUARD_REGIONS", "PATH"] {
      if let value = system_environment(name) { environment.append("\(name)=\(value)") }
    }
    started = monotonicNanoseconds()
    do {
      child = try ChildProcess(
        path: path, arguments: arguments, descriptors: [-1, 1, 2, ends.1, shared.fd],
        environment: environment, newSession: true)
    } catch {
      system_close(ends.0)
      system_close(ends.1)
      throw SupervisorError(error.message)
    }
    system_close(ends.1)
    channel = ends.0
    system_setNonblocking(channel)
    decoder = FrameDecoder(limit: 1 << 30)
  }

  deinit {
    system_close(channel)
  }

  /// Waits (blocking) up to `milliseconds` for the ready frame. False if the process died,
  /// sent something else, or did not answer in time.
  func waitUntilReady(milliseconds: Int) -> Bool {
    let deadline = monotonicNanoseconds() + UInt64(milliseconds) * 1_000_000
    while true {
      let now = monotonicNanoseconds()
      guard now < deadline else { break }
      let left = Int((deadline - now) / 1_000_000) + 1
      guard ChildProcess.readable(channel, within: left) else { return false }
      if receive() == .closed { return false }
      if let frame = try? decoder.next() {
        guard let answer = try? KernelAnswer.decode(frame), answer.id == 0,
          let reply = try? Reply.decode(answer.reply), reply.body == .text("ready")
        else { return false }
        ready = true
        return true
      }
    }
    return false
  }

  enum Received { case data, wouldBlock, closed }

  /// Reads what the channel has into the decoder (never blocks).
  func receive() -> Received {
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    var got = false
    while true {
      let n: Int
      do { n = try system_receive(channel, into: &chunk) } catch {
        if error == .EINTR { continue }
        if error == .EAGAIN || error == .EWOULDBLOCK { return got ? .data : .wouldBlock }
        return got ? .data : .closed
      }
      if n > 0 {
        unsafe chunk.withUnsafeBytes {
          unsafe decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n]))
        }
        got = true
        continue
      }
      return got ? .data : .closed
    }
  }

  func send(_ call: KernelCall, now: UInt64) {
    output.append(Frame.encode(call.encoded()), now: now)
    _ = output.write(to: channel)
  }
}
