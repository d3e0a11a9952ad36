/// Host (Linux x86-64) signals by name, for oopses, sandbox verdicts and crash reports: the one
/// table of signal names in lkm.
public enum Signals {
  public static let SIGHUP: Int32 = 1
  public static let SIGINT: Int32 = 2
  public static let SIGQUIT: Int32 = 3
  public static let SIGILL: Int32 = 4
  public static let SIGTRAP: Int32 = 5
  public static let SIGABRT: Int32 = 6
  public static let SIGBUS: Int32 = 7
  public static let SIGFPE: Int32 = 8
  public static let SIGKILL: Int32 = 9
  public static let SIGUSR1: Int32 = 10
  public static let SIGSEGV: Int32 = 11
  public static let SIGUSR2: Int32 = 12
  public static let SIGPIPE: Int32 = 13
  public static let SIGALRM: Int32 = 14
  public static let SIGTERM: Int32 = 15
  public static let SIGXCPU: Int32 = 24
  public static let SIGSYS: Int32 = 31

  static let names: [String] = [
    "0", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
    "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
    "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
    "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
  ]

  static let descriptions: [String] = [
    "", "Hangup", "Interrupt", "Quit", "Illegal instruction", "Trace/breakpoint trap", "Aborted",
    "Bus error", "Floating point exception", "Killed", "User defined signal 1",
    "Segmentation fault", "User defined signal 2", "Broken pipe", "Alarm clock", "Terminated",
    "Stack fault", "Child exited", "Continued", "Stopped (signal)", "Stopped",
    "Stopped (tty input)", "Stopped (tty output)", "Urgent I/O condition",
    "CPU time limit exceeded", "File size limit exceeded", "Virtual timer expired",
    "Profiling timer expired", "Window changed", "I/O possible", "Power failure",
    "Bad system call",
  ]

  /// `SIGSEGV`, …; real-time signals as `SIGRTMIN+N`; anything else `signal N`.
  public static func name(_ signal: Int32) -> String {
    if signal > 0 && Int(signal) < names.count { return names[Int(signal)] }
    if signal >= 34 && signal <= 64 { return "SIGRTMIN+\(signal - 34)" }
    return "signal \(signal)"
  }

  /// What a shell prints for a death by `signal` (`Segmentation fault`).
  public static func description(_ signal: Int32) -> String {
    if signal > 0 && Int(signal) < descriptions.count { return descriptions[Int(signal)] }
    return "Signal \(signal)"
  }

  /// The meaning of `si_code` for a synchronous signal (`illegal opcode`, `breakpoint`, …).
  public static func codeText(_ signal: Int32, _ code: Int32) -> String {
    switch (signal, code) {
    case (SIGILL, 1): "illegal opcode"
    case (SIGILL, 2): "illegal operand"
    case (SIGILL, 5): "privileged opcode"
    case (SIGILL, 8): "internal stack error"
    case (SIGFPE, 1): "integer divide by zero"
    case (SIGFPE, 2): "integer overflow"
    case (SIGFPE, 3): "floating-point divide by zero"
    case (SIGFPE, _): "floating-point exception"
    case (SIGTRAP, 0x80): "breakpoint instruction (int3)"
    case (SIGTRAP, 1): "debug trap (int1)"
    case (SIGTRAP, 2): "trace trap"
    case (SIGTRAP, _), (SIGILL, _): "trap"
    case (_, 0): "raised"
    case (_, -6): "raised with tgkill"
    default: "code \(code)"
    }
  }
}
