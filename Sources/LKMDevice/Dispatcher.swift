public import LKMKernel

/// Turns a request into a kernel call, with OpenBSD's gatekeeping in its order: securelevel
/// above 0 is EPERM for all but stat, a read-only session is EACCES for all but stat.
/// Why a load was refused before the kernel saw it, and the reply that says so.
public struct LoadRefusal: Sendable {
  /// Reply as a link failure (modload's exit 1, the lines printed) rather than a refusal.
  public var linkFailed: Bool
  public var errno: KernelErrno
  public var lines: [String]
  public init(linkFailed: Bool, errno: KernelErrno, lines: [String]) {
    self.linkFailed = linkFailed
    self.errno = errno
    self.lines = lines
  }
}

public struct Dispatcher {
  let kernel: Kernel
  /// Runs before each load (not checks): nil lets it go on, a refusal is the reply instead
  /// (lkmd --trial-load runs the module in the sandbox here).
  let vetLoad: ((LoadRequest) -> LoadRefusal?)?
  public init(kernel: Kernel, vetLoad: ((LoadRequest) -> LoadRefusal?)? = nil) {
    self.kernel = kernel
    self.vetLoad = vetLoad
  }

  public func perform(_ request: Request, write: Bool, credentials: Credentials) -> Reply {
    if !request.isStat {
      // securelevel guards the module interface; kern.securelevel itself may still be raised.
      // System calls are what modules give userland, not the module interface; nor are the
      // kernel's devices, file systems and interpreters (isKernelService).
      var exempt = request.isKernelService
      if case .sysctl = request { exempt = true }
      if case .syscall = request { exempt = true }
      if kernel.securelevel > 0 && !exempt { return Reply(errno: KernelErrno.EPERM.rawValue) }
      if !write { return Reply(errno: KernelErrno.EACCES.rawValue) }
    }
    var reply = Reply()
    switch request {
    case .hello:
      reply.errno = KernelErrno.EINVAL.rawValue
    case .load(let load):
      if !load.checkOnly, let vetLoad, let refusal = vetLoad(load) {
        reply.outcome = refusal.linkFailed ? 1 : 2
        reply.errno = refusal.errno.rawValue
        reply.lines = refusal.lines
        return reply
      }
      switch kernel.load(load) {
      case .loaded(let id, let placements, let entry, let warnings):
        reply.lines = warnings
        reply.id = id
        reply.placements = placements
        reply.entry = entry
      case .linkFailed(let lines):
        reply.outcome = 1
        reply.errno = KernelErrno.ENOEXEC.rawValue
        reply.lines = lines
      case .refused(let errno):
        reply.outcome = 2
        reply.errno = errno.rawValue
      }
    case .unload(let id, let name):
      let users = kernel.users(of: id, name: name)
      do { try kernel.unload(id: id, name: name) } catch {
        reply.errno = error.rawValue
        if error == .EBUSY && !users.isEmpty { reply.lines = ["in use by: " + users.joined(separator: ", ")] }
      }
    case .stat(let id, let name):
      do { reply.status = try kernel.stat(id: id, name: name) } catch { reply.errno = error.rawValue }
    case .syscall(let number, let arguments):
      let result = kernel.syscall(number, arguments, credentials: credentials)
      reply.errno = result.error?.rawValue ?? 0
      reply.retval = result.retval
      reply.text = result.output
    case .dmesg:
      reply.text = kernel.messageBuffer()
    case .sysctl(let name, let value):
      return sysctl(name, value)
    case .ksyms:
      reply.symbols = kernel.symbols()
    case .addr(let address):
      if let place = kernel.symbolize(address) {
        reply.text = place
      } else {
        reply.errno = KernelErrno.ENOENT.rawValue
      }
    case .mknod, .remove, .read, .write, .ioctl, .mount, .unmount, .mounts, .list, .exec:
      return service(request, credentials: credentials)
    }
    return reply
  }

  /// The kernel's namespace, devices, file systems and exec.
  func service(_ request: Request, credentials: Credentials) -> Reply {
    var reply = Reply()
    do {
      switch request {
      case .mknod(let path, let node):
        try kernel.makeNode(path, node, credentials: credentials)
      case .remove(let path):
        try kernel.removeNode(path, credentials: credentials)
      case .read(let path, let count, let offset):
        reply.data = try kernel.read(path, count: count, offset: offset, credentials: credentials)
      case .write(let path, let data, let offset):
        reply.retval = Int64(try kernel.write(path, data, offset: offset, credentials: credentials))
      case .ioctl(let path, let command, let data):
        reply.data = try kernel.ioctl(path, command: command, data: data, credentials: credentials)
      case .mount(let type, let path):
        try kernel.mount(type: type, at: path, credentials: credentials)
      case .unmount(let path):
        try kernel.unmount(path, credentials: credentials)
      case .mounts:
        reply.mounts = kernel.mounts
        reply.fileSystems = kernel.fileSystemTypes
      case .list(let path, let long):
        reply.entries = try kernel.list(path, long: long, credentials: credentials)
      case .exec(let name, let image, let arguments):
        let result = try kernel.exec(name: name, image: image, arguments: arguments, credentials: credentials)
        reply.retval = Int64(result.status)
        reply.text = result.output
      default:
        reply.errno = KernelErrno.EINVAL.rawValue
      }
    } catch {
      reply.errno = error.rawValue
    }
    return reply
  }

  func sysctl(_ name: String?, _ value: String?) -> Reply {
    var reply = Reply()
    let all = ["kern.securelevel", "kern.version", "kern.hostname"]
    func read(_ n: String) -> String? {
      switch n {
      case "kern.securelevel": "\(kernel.securelevel)"
      case "kern.version": kernel.version
      case "kern.hostname": kernel.hostname
      default: nil
      }
    }
    guard let name else {
      reply.text = all.map { "\($0)=\(read($0)!)\n" }.joined()
      return reply
    }
    guard let current = read(name) else {
      reply.errno = KernelErrno.ENOENT.rawValue
      return reply
    }
    guard let value else {
      reply.text = "\(name)=\(current)\n"
      return reply
    }
    switch name {
    case "kern.securelevel":
      guard let level = Int32(value) else {
        reply.errno = KernelErrno.EINVAL.rawValue
        return reply
      }
      do { try kernel.setSecurelevel(level) } catch {
        reply.errno = error.rawValue
        return reply
      }
    case "kern.hostname":
      guard value.utf8.count < 256 else {
        reply.errno = KernelErrno.EINVAL.rawValue
        return reply
      }
      kernel.hostname = value
    default:
      reply.errno = KernelErrno.EPERM.rawValue
      return reply
    }
    reply.text = "\(name): \(current) -> \(read(name)!)\n"
    return reply
  }
}
