public import LKMInterface
import ModuleLinker

extension Kernel {
  /// Performs one request for a client and answers it: what the kernel process does with each
  /// request its supervisor forwards.
  ///
  /// The gatekeeping (securelevel, read-only sessions) is the supervisor's: it owns the policy
  /// and forwards only what passed it. Sessions (`hello`) and the crash reports are the
  /// supervisor's too; here they are `EINVAL`.
  ///
  /// A reply carries ``Reply/oops`` when module code faulted during the request (an oops was
  /// written to the message buffer by the thread serving it): a failure with EFAULT is then
  /// the fault's, not an error the module returned.
  public func perform(_ request: Request, credentials: Credentials) -> Reply {
    let oopses = Bridge.threadOopses
    var reply = answer(request, credentials: credentials)
    if Bridge.threadOopses != oopses { reply.oops = true }
    return reply
  }

  func answer(_ request: Request, credentials: Credentials) -> Reply {
    switch request {
    case .hello, .crashes, .exit:
      return .failure(.EINVAL)
    case .load(let load):
      // A check (modload -n) only links; a load goes through /dev/lkm's ioctl.
      guard !load.checkOnly else { return reply(for: self.load(load)) }
      return deviceLoad(load)
    case .unload(let id, let name, let force):
      // modunload -f goes around the system call table: the way out of a module that broke it.
      guard force else { return deviceUnload(id: id, name: name) }
      switch unload(id: id, name: name, force: true) {
      case .success(let output): return Reply(.message(lines: [], output: output))
      case .failure(let refusal):
        return .failure(refusal.errno, refusal.lines, output: refusal.output)
      }
    case .stat(let id, let name):
      return deviceStat(id: id, name: name)
    case .syscall(let number, let arguments):
      return syscall(number, arguments)
    case .dmesg(let timestamps):
      guard timestamps else { return Reply(.text(messageBuffer())) }
      let (text, lineTimes) = Bridge.timedMessageBuffer()
      return Reply(.messages(text: text, lineTimes: lineTimes))
    case .ksyms:
      return Reply(.symbols(symbols()))
    case .addr(let address):
      guard let place = symbolize(address) else { return .failure(.ENOENT) }
      return Reply(.text(place))
    case .fileSystems:
      return Reply(.mounts([], types: fileSystemTypes))
    case .exec(let name, let image, let arguments):
      do {
        return Reply(.exec(try exec(name: name, image: image, arguments: arguments)))
      } catch {
        return .failure(error)
      }
    }
  }

  /// The reply to a load's outcome.
  func reply(for outcome: LoadOutcome) -> Reply {
    switch outcome {
    case .loaded(let result): return Reply(.loaded(result))
    case .linkFailed(let error):
      return Reply(error: .ENOEXEC, .linkFailed(LinkHints.explain(error).lines))
    case .refused(let refusal):
      return Reply(error: refusal.errno, .refused(lines: refusal.lines, output: refusal.output))
    }
  }
}
