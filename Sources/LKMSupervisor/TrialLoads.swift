// lkmd --trial-load: every load runs in the sandbox first, on a thread of its own, so that a
// module that loops for the sandbox's whole timeout delays only its own request.
import LKMInterface
import LKMSandbox
import Synchronization

/// Runs one trial at a time off the event loop; its completion wakes the loop through a pipe.
final class TrialLoads: @unchecked Sendable {
  private let sandbox: Sandbox
  /// Readable when a trial has finished.
  let wakeFD: Int32
  private let notifyFD: Int32
  private let finished = Mutex<(token: Int, refusal: Reply?, verdict: String)?>(nil)

  init(hostSymbols: Bool, timeout: Double) throws(SupervisorError) {
    var configuration = Sandbox.Configuration()
    configuration.hostSymbols = hostSymbols
    configuration.timeout = timeout
    do { sandbox = try Sandbox(configuration: configuration) } catch {
      throw SupervisorError("--trial-load: \(error)")
    }
    let fds: (Int32, Int32)
    do { fds = try system_pipe() } catch { throw SupervisorError("pipe", errno: error.rawValue) }
    for fd in [fds.0, fds.1] {
      system_setCloseOnExec(fd)
      system_setNonblocking(fd)
    }
    wakeFD = fds.0
    notifyFD = fds.1
  }

  /// Starts a trial of `request`; ``take()`` gives its result once `wakeFD` is readable.
  func start(_ request: LoadRequest, token: Int) {
    let started = system_detachedThread { [self] in
      let (refusal, verdict) = self.judge(request)
      self.finished.withLock { $0 = (token, refusal, verdict) }
      system_writeByte(self.notifyFD, 1)
    }
    if !started {
      finished.withLock {
        $0 = (token, .failure(.EAGAIN, ["sandbox: cannot start a thread"]), "not run")
      }
      system_writeByte(notifyFD, 1)
    }
  }

  /// The finished trial: its token, the refusal to send instead of loading (nil: go on) and
  /// the verdict for the message buffer.
  func take() -> (token: Int, refusal: Reply?, verdict: String)? {
    while system_readByte(wakeFD) != nil {}
    return finished.withLock {
      let result = $0
      $0 = nil
      return result
    }
  }

  /// The verdict, and the reply that refuses the load unless it loaded with LKM_E_LOAD 0.
  private func judge(_ request: LoadRequest) -> (Reply?, String) {
    let verdict: SandboxVerdict
    do {
      verdict = try sandbox.run(SandboxRequest(inputs: request.inputs, entry: request.entry))
    } catch {
      return (.failure(.EPERM, ["sandbox: \(error)"]), "the sandbox failed: \(error)")
    }
    if verdict.allowsLoad { return (nil, verdict.description) }
    if case .rejected(_, let message) = verdict {
      return (Reply(error: .ENOEXEC, .linkFailed([message])), verdict.description)
    }
    var errno = KernelErrno.EPERM
    if case .loaded(let load, _, _) = verdict { errno = KernelErrno(load) }
    if case .moduleFault = verdict { errno = .EFAULT }
    return (
      Reply(error: errno, .refused(lines: ["sandbox: \(verdict.description)"], output: "")),
      verdict.description
    )
  }
}
