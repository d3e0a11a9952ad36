// lkmd --trial-load: every load runs in the sandbox first, on a thread of its own, so that a
// module that loops for the sandbox's whole timeout delays only its own request.
import Glibc
import LKMInterface
import LKMSandbox

/// Runs one trial at a time off the event loop; its completion wakes the loop through a pipe.
final class TrialLoads: @unchecked Sendable {
  private let sandbox: Sandbox
  /// Readable when a trial has finished.
  let wakeFD: Int32
  private let notifyFD: Int32
  private var lock = pthread_mutex_t()
  private var finished: (token: Int, refusal: Reply?, verdict: String)?

  init(hostSymbols: Bool, timeout: Double) throws(SupervisorError) {
    var configuration = Sandbox.Configuration()
    configuration.hostSymbols = hostSymbols
    configuration.timeout = timeout
    do { sandbox = try Sandbox(configuration: configuration) } catch {
      throw SupervisorError("--trial-load: \(error)")
    }
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { throw SupervisorError("pipe", errno: errno) }
    for fd in fds {
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }
    wakeFD = fds[0]
    notifyFD = fds[1]
    pthread_mutex_init(&lock, nil)
  }

  /// Starts a trial of `request`; ``take()`` gives its result once `wakeFD` is readable.
  func start(_ request: LoadRequest, token: Int) {
    let work = Work { [self] in
      let (refusal, verdict) = self.judge(request)
      pthread_mutex_lock(&self.lock)
      self.finished = (token, refusal, verdict)
      pthread_mutex_unlock(&self.lock)
      var byte: UInt8 = 1
      _ = Glibc.write(self.notifyFD, &byte, 1)
    }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(work).toOpaque()
    let rc = pthread_create(&thread, nil, { context in
      Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().run()
      return nil
    }, context)
    if rc == 0 {
      pthread_detach(thread)
    } else {
      Unmanaged<Work>.fromOpaque(context).release()
      pthread_mutex_lock(&lock)
      finished = (token, .failure(.EAGAIN, ["sandbox: cannot start a thread"]), "not run")
      pthread_mutex_unlock(&lock)
      var byte: UInt8 = 1
      _ = Glibc.write(notifyFD, &byte, 1)
    }
  }

  /// The finished trial: its token, the refusal to send instead of loading (nil: go on) and
  /// the verdict for the message buffer.
  func take() -> (token: Int, refusal: Reply?, verdict: String)? {
    var byte: UInt8 = 0
    while Glibc.read(wakeFD, &byte, 1) > 0 {}
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    let result = finished
    finished = nil
    return result
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

private final class Work: @unchecked Sendable {
  let body: () -> Void
  init(_ body: @escaping () -> Void) { self.body = body }
  func run() { body() }
}
