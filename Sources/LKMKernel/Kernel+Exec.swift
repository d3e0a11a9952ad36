public import LKMInterface
extension Kernel {
  /// execve(2) through the execution switch: the file (its name, contents and arguments, argv[0]
  /// first) is offered to each execsw entry; the accepting interpreter runs it.
  ///
  /// The corresponding OpenBSD code is `check_exec` in `sys/kern/kern_exec.c`.
  ///
  /// - Throws: ENOEXEC when no entry accepts the file (or the first other error an entry
  ///   returned), EFAULT when interpreter code faults.
  public func exec(name: String, image: [UInt8], arguments: [String], credentials: Credentials)
    throws(KernelErrno) -> ExecResult
  {
    begin(credentials)
    let (status, outcome) = Bridge.exec(name: name, image: image, arguments: arguments)
    let output = Bridge.takeUserOutput()
    try contain(outcome, during: "exec of '\(name)'")
    return ExecResult(status: status, output: output)
  }
}
