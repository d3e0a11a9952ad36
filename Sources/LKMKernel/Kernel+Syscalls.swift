public import LKMInterface
import ModuleLinker

extension Kernel {
  /// A system call for a client, through `sysent[number]`, for the process the request runs
  /// for; the reply has retval[0], what was uprintf-ed, and the call's returned buffers.
  ///
  /// A slot whose handler is not kernel code or a loaded module's code (a module wrote it and
  /// went) is put back first: the call is then `ENOSYS`, never a call into freed memory.
  public func syscall(_ number: Int32, _ arguments: [SyscallArgument]) -> Reply {
    _ = Bridge.takeUserOutput()
    switch callSyscall(number, arguments) {
    case .failure(let error):
      return Reply(error: error, .syscall(retval: 0, output: Bridge.takeUserOutput()))
    case .success(let (error, retval, buffers)):
      return Reply(
        error: error, .syscall(retval: retval, output: Bridge.takeUserOutput(), buffers: buffers))
    }
  }

  /// sysent[number] with `arguments`: (errno, retval[0], the returned buffers), or EFAULT when
  /// the handler (a module's) faulted. Oopses of module code it called are reported.
  func callSyscall(_ number: Int32, _ arguments: [SyscallArgument])
    -> Result<(error: KernelErrno?, retval: Int64, buffers: [[UInt8]]), KernelErrno>
  {
    tick()
    auditTables(sysentOnly: true)
    let handler = Bridge.handler(ofSlot: number)
    let owner = modules.values.first { $0.linked.contains(handler) }
    Bridge.setCurrentModule(owner?.id ?? -1)
    let result = Bridge.callSyscall(number, arguments)
    Bridge.setCurrentModule(-1)
    reportPendingOopses()
    switch result {
    case .failure(let fault):
      if let owner {
        owner.faulted = true
        Bridge.markFaulted(owner.id)
      }
      let name = Bridge.builtinSyscallName(number).map { " (\($0))" } ?? ""
      _ = oops(
        fault, module: owner?.name ?? "?", id: owner?.id ?? -1, linked: owner?.linked,
        during: "system call \(number)\(name)")
      return .failure(.EFAULT)
    case .success(let (error, retval, buffers)):
      return .success((error == 0 ? nil : KernelErrno(error), retval, buffers))
    }
  }

  /// Writes the oopses of module code that faulted deep under the request (a driver's d_read
  /// under read(2), a file system's vop_lookup under open(2)) and marks those modules faulted.
  func reportPendingOopses() {
    for pending in Bridge.takePendingOopses() {
      let owner = modules[pending.module]
      if let owner {
        owner.faulted = true
        Bridge.markFaulted(owner.id)
      }
      _ = oops(
        pending.fault, module: owner?.name ?? "?", id: pending.module, linked: owner?.linked,
        during: pending.during)
    }
  }
}
