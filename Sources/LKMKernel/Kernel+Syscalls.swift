internal import Glibc
public import LKMInterface
import ModuleLinker

extension Kernel {
  /// Runs `sysent[number]` for a client: (errno or nil, retval[0], what was uprintf-ed).
  ///
  /// A slot whose handler is not kernel code or a loaded module's code (a module wrote it and
  /// went) is put back first: the call is then `ENOSYS`, never a call into freed memory.
  public func syscall(
    _ number: Int32, _ arguments: [SyscallArgument], credentials: Credentials
  ) -> (error: KernelErrno?, retval: Int64, output: String) {
    tick()
    _ = Bridge.takeUserOutput()
    auditTables()
    var copies: [UnsafeMutablePointer<CChar>] = []
    defer { copies.forEach { free($0) } }
    var values: [Int64] = []
    for argument in arguments {
      switch argument {
      case .integer(let v): values.append(v)
      case .string(let s):
        guard let copy = strdup(s) else { return (.ENOMEM, 0, "") }
        copies.append(copy)
        values.append(Int64(Int(bitPattern: copy)))
      }
    }
    let handler = Bridge.handler(ofSlot: number)
    let owner = modules.values.first { $0.linked.contains(handler) }
    Bridge.setCurrentModule(owner?.id ?? -1)
    defer { Bridge.setCurrentModule(-1) }
    switch Bridge.callSyscall(
      number, pid: credentials.pid, uid: credentials.uid, command: credentials.command,
      arguments: values)
    {
    case .failure(let fault):
      if let owner {
        owner.faulted = true
        Bridge.markFaulted(owner.id)
      }
      _ = oops(
        fault, module: owner?.name ?? "?", id: owner?.id ?? -1, linked: owner?.linked,
        during: "system call \(number)")
      return (.EFAULT, 0, Bridge.takeUserOutput())
    case .success(let (error, retval)):
      return (error == 0 ? nil : KernelErrno(error), retval, Bridge.takeUserOutput())
    }
  }
}
