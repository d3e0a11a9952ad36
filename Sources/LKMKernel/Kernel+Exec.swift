public import LKMInterface
import ModuleLinker

extension Kernel {
  /// execve(2) through the execution switch: the file (its name, contents and arguments, argv[0]
  /// first) is offered to each execsw entry; the accepting interpreter runs it.
  ///
  /// The corresponding OpenBSD code is `check_exec` in `sys/kern/kern_exec.c`.
  ///
  /// - Throws: ENOEXEC when no entry accepts the file (or the first other error an entry
  ///   returned), EFAULT when interpreter code faults.
  public func exec(name: String, image: [UInt8], arguments: [String])
    throws(KernelErrno) -> ExecResult
  {
    tick()
    _ = Bridge.takeUserOutput()
    let (status, outcome) = Bridge.exec(name: name, image: image, arguments: arguments)
    let output = Bridge.takeUserOutput()
    try contain(outcome, during: "exec of '\(name)'")
    return ExecResult(status: status, output: output)
  }

  /// Turns what a call into module code came to into the request's result. A fault becomes an
  /// oops naming the module whose code ran (it is marked faulted) and EFAULT; an errno is
  /// thrown.
  func contain(_ outcome: Outcome, during: String) throws(KernelErrno) {
    if let fault = outcome.fault {
      let owner = modules.values.first { $0.linked.contains(fault.pc) } ?? modules[outcome.module]
      if let owner {
        owner.faulted = true
        Bridge.markFaulted(owner.id)
      }
      oops(
        fault, module: owner?.name ?? "?", id: owner?.id ?? -1, linked: owner?.linked,
        during: during)
      throw .EFAULT
    }
    if outcome.error != 0 { throw KernelErrno(outcome.error) }
  }
}
