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
    case .hello, .crashes:
      return .failure(.EINVAL)
    case .load(let load):
      switch self.load(load) {
      case .loaded(let result): return Reply(.loaded(result))
      case .linkFailed(let error):
        let inputs = (try? Kernel.parse(load.inputs).get()) ?? []
        return Reply(error: .ENOEXEC, .linkFailed(LinkHints.explain(error, inputs: inputs).lines))
      case .refused(let refusal):
        return Reply(error: refusal.errno, .refused(lines: refusal.lines, output: refusal.output))
      }
    case .unload(let id, let name, let force):
      switch unload(id: id, name: name, force: force) {
      case .success(let output): return Reply(.message(lines: [], output: output))
      case .failure(let refusal): return .failure(refusal.errno, refusal.lines, output: refusal.output)
      }
    case .stat(let id, let name):
      switch stat(id: id, name: name) {
      case .success(let status): return Reply(.status(status))
      case .failure(let refusal): return .failure(refusal.errno, refusal.lines, output: refusal.output)
      }
    case .syscall(let number, let arguments):
      let result = syscall(number, arguments, credentials: credentials)
      return Reply(error: result.error, .syscall(retval: result.retval, output: result.output))
    case .dmesg(let timestamps):
      guard timestamps else { return Reply(.text(messageBuffer())) }
      let (text, lineTimes) = Bridge.timedMessageBuffer()
      return Reply(.messages(text: text, lineTimes: lineTimes))
    case .sysctl(let name, let value):
      return sysctl(name, value)
    case .ksyms:
      return Reply(.symbols(symbols()))
    case .addr(let address):
      guard let place = symbolize(address) else { return .failure(.ENOENT) }
      return Reply(.text(place))
    case .mknod, .remove, .read, .write, .ioctl, .mount, .unmount, .mounts, .list, .exec:
      return service(request, credentials: credentials)
    }
  }

  /// The kernel's namespace, devices, file systems and exec.
  func service(_ request: Request, credentials: Credentials) -> Reply {
    do {
      switch request {
      case .mknod(let path, let node):
        try makeNode(path, node, credentials: credentials)
      case .remove(let path):
        try removeNode(path, credentials: credentials)
      case .read(let path, let count, let offset):
        return Reply(.data(try read(path, count: count, offset: offset, credentials: credentials)))
      case .write(let path, let data, let offset):
        let n = try write(path, data, offset: offset, credentials: credentials)
        return Reply(.count(Int64(n)))
      case .ioctl(let path, let command, let data):
        return Reply(.data(try ioctl(path, command: command, data: data, credentials: credentials)))
      case .mount(let type, let path):
        try mount(type: type, at: path, credentials: credentials)
      case .unmount(let path):
        try unmount(path, credentials: credentials)
      case .mounts:
        return Reply(.mounts(mounts, types: fileSystemTypes))
      case .list(let path, let long):
        return Reply(.entries(try list(path, long: long, credentials: credentials)))
      case .exec(let name, let image, let arguments):
        return Reply(
          .exec(try exec(name: name, image: image, arguments: arguments, credentials: credentials)))
      default:
        return .failure(.EINVAL)
      }
    } catch {
      return .failure(error)
    }
    return Reply()
  }

  /// The sysctl variables: kern.securelevel (only raised), kern.version, kern.hostname.
  func sysctl(_ name: String?, _ value: String?) -> Reply {
    let all = ["kern.securelevel", "kern.version", "kern.hostname"]
    func read(_ n: String) -> String? {
      switch n {
      case "kern.securelevel": "\(securelevel)"
      case "kern.version": version
      case "kern.hostname": hostname
      default: nil
      }
    }
    guard let name else {
      return Reply(.text(all.map { "\($0)=\(read($0) ?? "")\n" }.joined()))
    }
    guard let current = read(name) else { return .failure(.ENOENT) }
    guard let value else { return Reply(.text("\(name)=\(current)\n")) }
    switch name {
    case "kern.securelevel":
      guard let level = Int32(value) else { return .failure(.EINVAL) }
      do { try setSecurelevel(level) } catch { return .failure(error) }
    case "kern.hostname":
      guard value.utf8.count < 256 else { return .failure(.EINVAL) }
      hostname = value
    default:
      return .failure(.EPERM)
    }
    return Reply(.text("\(name): \(current) -> \(read(name) ?? "")\n"))
  }
}
