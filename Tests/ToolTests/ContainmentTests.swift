import Foundation
import Glibc
import TestSupport
import Testing

// No module takes lkmd down: the attacks of Fixtures/lkm/containment, each against a real lkmd.
// Every test ends with the same supervisor serving, a new module loading and the oops (module
// code contained) or the panic and crash report (the kernel process died and was rebooted) in
// the message buffer.

/// What an attack is expected to come to.
enum Containment: Sendable, CustomStringConvertible {
  /// Contained: an oops whose description contains this text; no reboot.
  case oops(String)
  /// The kernel process died or hung: the supervisor's panic line contains this text, and it
  /// rebooted the kernel.
  case reboot(String)
  /// A system call the module made through the C library was refused (EPERM, a line in the
  /// message buffer containing this text), and the module failed its load with EPERM.
  case denied(String)

  var description: String {
    switch self {
    case .oops(let text): "oops: \(text)"
    case .reboot(let text): "reboot: \(text)"
    case .denied(let text): "denied: \(text)"
    }
  }
}

struct Attack: Sendable, CustomStringConvertible {
  var source: String
  var name: String
  var defines: [String] = []
  var entry: String?
  var expected: Containment
  var description: String { name }
}

/// Loads the attack module (the load must fail) and checks what the kernel made of it.
func expectContained(
  _ attack: Attack, in k: KernelProcess, sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let object = try KernelFixtures.object(
    "containment/" + attack.source, as: attack.name, defines: attack.defines)
  let crashesBefore = try k.run("lkmctl", "crashes").stdout
  let load = try k.run("modload", (attack.entry.map { ["-e", $0] } ?? []) + [object])
  let dmesg = try k.dmesg()
  let crashes = try k.run("lkmctl", "crashes").stdout
  switch attack.expected {
  case .oops(let text):
    #expect(
      load.outcome
        == Outcome(
          status: 14, stdout: "",
          stderr: "modload: error initializing module: Bad address\n\(oopsHint("modload"))"),
      sourceLocation: sourceLocation)
    #expect(
      dmesg.contains("during LKM_E_LOAD: \(text)"), "dmesg:\n\(dmesg)",
      sourceLocation: sourceLocation)
    #expect(crashes == crashesBefore, "a reboot: \(crashes)", sourceLocation: sourceLocation)
  case .denied(let text):
    #expect(
      load.outcome
        == Outcome(
          status: 14, stdout: "",
          stderr: "modload: error initializing module: Operation not permitted\n"),
      sourceLocation: sourceLocation)
    #expect(dmesg.contains(text), "dmesg:\n\(dmesg)", sourceLocation: sourceLocation)
    #expect(crashes == crashesBefore, "a reboot: \(crashes)", sourceLocation: sourceLocation)
  case .reboot(let text):
    #expect(load.status == 14, "\(load)", sourceLocation: sourceLocation)
    #expect(
      load.stderr.hasPrefix("modload: error initializing module: kernel panicked: \(text)")
        && load.stderr.hasSuffix("; rebooted\n"), "\(load)", sourceLocation: sourceLocation)
    #expect(
      dmesg.contains("panic: kernel process \(text)")
        && dmesg.contains("lkmd: kernel rebooted in "),
      "dmesg:\n\(dmesg)", sourceLocation: sourceLocation)
    #expect(crashes.count > crashesBefore.count, "no crash report", sourceLocation: sourceLocation)
  }
  // Still serving: a new module loads and runs, then goes.
  expectRun(
    try k.run("modload", KernelFixtures.object("hello/hello.c")), 0,
    stdout: "Module loaded as ID 0\n", sourceLocation: sourceLocation)
  expectRun(
    try k.run("modunload", "-n", "hello"), 0, sourceLocation: sourceLocation)
  #expect(k.process.isRunning, sourceLocation: sourceLocation)
}

@Suite("containment: no module takes lkmd down")
struct ContainmentTests {
  static let moduleCode: [Attack] = [
    Attack(
      source: "int3.c", name: "int3", expected: .oops("SIGTRAP (breakpoint instruction (int3))")),
    Attack(source: "icebp.c", name: "icebp", expected: .oops("SIGTRAP (debug trap (int1))")),
    Attack(source: "ud2.c", name: "ud2", expected: .oops("SIGILL")),
    Attack(
      source: "rawexit.c", name: "rawexit",
      expected: .oops("system call 231 (exit_group) made from module code: denied (SIGSYS)")),
    Attack(
      source: "rawkill.c", name: "rawkill",
      expected: .oops("system call 39 (getpid) made from module code: denied (SIGSYS)")),
    Attack(
      source: "rawfork.c", name: "rawfork",
      expected: .oops("system call 57 (fork) made from module code: denied (SIGSYS)")),
    Attack(
      source: "rawsigblock.c", name: "rawsigblock",
      expected: .oops("system call 14 (rt_sigprocmask) made from module code: denied (SIGSYS)")),
    Attack(
      source: "deep.c", name: "deep",
      expected: .oops("stack overflow: SIGSEGV at address 0x")),
    Attack(
      source: "wildjump.c", name: "wildjump",
      expected: .oops("SIGSEGV at address 0x6b6b6b6b6b6b, pc 0x6b6b6b6b6b6b outside any module")),
  ]

  @Test(
    "module code that traps, makes raw system calls or overflows its stack is an oops, twice",
    arguments: moduleCode)
  func moduleCodeIsContained(_ attack: Attack) throws {
    try withKernel { k in
      try expectContained(attack, in: k)
      try expectContained(attack, in: k)
      #expect(k.standardError == "")
    }
  }

  static let throughLibc: [Attack] = [
    Attack(
      source: "libc.c", name: "libc_exit", defines: ["LIBC_EXIT"], entry: "libc_lkmentry",
      expected: .reboot("exited with status 7")),
    Attack(
      source: "libc.c", name: "libc_kill", defines: ["LIBC_KILL"], entry: "libc_lkmentry",
      expected: .reboot("killed by SIGKILL")),
    Attack(
      source: "libc.c", name: "libc_sigblock", defines: ["LIBC_SIGBLOCK"], entry: "libc_lkmentry",
      expected: .reboot("held its lock for 6 s and was killed")),
    Attack(
      source: "libc.c", name: "libc_abort", defines: ["LIBC_ABORT"], entry: "libc_lkmentry",
      expected: .oops("SIGABRT raised by module code")),
    Attack(
      source: "libc.c", name: "libc_usr1", defines: ["LIBC_USR1"], entry: "libc_lkmentry",
      expected: .oops("SIGUSR1 raised by module code")),
    Attack(
      source: "libc.c", name: "libc_fork", defines: ["LIBC_FORK"], entry: "libc_lkmentry",
      expected: .denied("lkm: system call 56 denied to the kernel process (module id 0): EPERM\n")),
    Attack(
      source: "libc.c", name: "libc_prlimit", defines: ["LIBC_PRLIMIT"], entry: "libc_lkmentry",
      expected: .denied("lkm: system call 302 denied to the kernel process (module id 0): EPERM\n")),
    Attack(
      source: "libc.c", name: "libc_iouring", defines: ["LIBC_IOURING"], entry: "libc_lkmentry",
      expected: .denied("lkm: system call 425 denied to the kernel process (module id 0): EPERM\n")),
  ]

  @Test(
    "with --host-symbols, exit and SIGKILL through the C library reboot the kernel, abort and raise are oopses, fork fails, a hang is killed",
    arguments: throughLibc)
  func libraryCallsAreContained(_ attack: Attack) throws {
    try withKernel(["--host-symbols", "--watchdog", "1", "--hang-limit", "3"]) { k in
      try expectContained(attack, in: k)
      try expectContained(attack, in: k)
      // The supervisor's limits are its own still (LIBC_PRLIMIT aims at them).
      let limits = try String(
        contentsOfFile: "/proc/\(k.process.processIdentifier)/limits", encoding: .utf8)
      let openFiles = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }
      #expect(
        openFiles?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first != "3")
    }
  }

  @Test("a jump into the kernel's own code is an oops or a reboot, never a dead lkmd")
  func jumpIntoKernelCode() throws {
    try withKernel { k in
      let object = try KernelFixtures.object("containment/textjump.c")
      let load = try k.run("modload", object)
      #expect(load.status == 14, "\(load)")
      let dmesg = try k.dmesg()
      #expect(
        dmesg.contains("oops: module 'textjump' (id 0) during LKM_E_LOAD: ")
          || dmesg.contains("lkmd: kernel rebooted in "), "dmesg:\n\(dmesg)")
      expectRun(
        try k.run("modload", KernelFixtures.object("hello/hello.c")), 0,
        stdout: "Module loaded as ID 0\n")
    }
  }

  @Test(
    "a module that overwrites the kernel's .data and .bss takes down the kernel process, not lkmd")
  func corruptedKernelIsRebooted() throws {
    try withKernel { k in
      let first = try KernelFixtures.object("containment/scribble.c")
      expectRun(try k.run("modload", first), 0, stdout: "Module loaded as ID 0\n")
      expectRun(
        try k.run("modload", KernelFixtures.object("hello/hello.c")), 0,
        stdout: "Module loaded as ID 1\n")
      let (start, length) = try kernelData(k)
      let run = try k.run("lkmctl", "syscall", "210", "0x" + String(start, radix: 16), "\(length)")
      #expect(run.status == 1, "\(run)")
      #expect(run.stderr.hasPrefix("lkmctl: syscall 210: kernel panicked: killed by SIG"), "\(run)")
      #expect(run.stderr.contains("(syscall 210); rebooted\n"), "\(run)")
      // A fresh kernel: no module loaded; the message buffer kept; the report listed.
      #expect(try k.modstat() == ModstatListing.header)
      let dmesg = try k.dmesg()
      #expect(dmesg.contains("DDB symbols added: "), "the message buffer before the panic was lost")
      #expect(dmesg.contains("panic: kernel process killed by SIG"), "dmesg:\n\(dmesg)")
      let crashes = try k.run("lkmctl", "crashes")
      #expect(crashes.status == 0 && crashes.stdout.hasPrefix("1 "), "\(crashes)")
      let report = try k.run("lkmctl", "crashes", "1")
      #expect(report.stdout.contains("request in flight: syscall 210\n"), "\(report)")
      #expect(report.stdout.contains("  0 scribble 0x"), "\(report)")
      #expect(report.stdout.contains("  1 hello 0x"), "\(report)")
      expectRun(
        try k.run("modload", KernelFixtures.object("hello/hello.c")), 0,
        stdout: "Module loaded as ID 0\n")
      let call = try k.run("lkmctl", "syscall", "210", "1", "again")
      #expect(
        call.status == 0
          && call.stdout.wholeMatch(of: #/Hello, again! \(1 of 1, from pid [0-9]+\)\nretval = 5\n/#)
            != nil,
        "\(call)")
    }
  }

  @Test(
    "a thread a module started keeps the module loaded until it ends; a thread's fault is an oops")
  func moduleThreads() throws {
    try withKernel(["--host-symbols"]) { k in
      let object = try KernelFixtures.object("containment/thread.c")
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      expectRun(
        try k.run("modunload", "-n", "thread"), 5,
        stderr:
          "modunload: LMUNLOAD: Device busy\nmodunload: 1 thread of the module still running\n")
      #expect(
        try k.dmesg().contains(
          "lkm: module 'thread' (id 0) has 1 thread running: it cannot be unloaded until it ends\n")
      )
      // Told to stop, it ends; then the module goes.
      expectRun(try k.run("lkmctl", "syscall", "210"), 0, stdout: "retval = 1\n")
      expectRun(try k.run("modunload", "-n", "thread"), 0)
      let faulting = try KernelFixtures.object(
        "containment/thread.c", as: "threadfault", defines: ["FAULT"])
      expectRun(
        try k.run("modload", "-e", "thread_lkmentry", faulting), 0,
        stdout: "Module loaded as ID 0\n")
      var dmesg = ""
      for _ in 0..<500 {
        dmesg = try k.dmesg()
        if dmesg.contains("in a thread it started") { break }
        usleep(10_000)
      }
      #expect(
        dmesg.contains(
          "oops: module 'thread' (id 0) during a thread it started: SIGSEGV at address 0x0, pc 0x"),
        "dmesg:\n\(dmesg)")
      expectRun(try k.run("modunload", "-n", "thread"), 0)
      #expect(k.process.isRunning)
    }
  }

  @Test(
    "a load that fails while a thread it started runs keeps the module's memory until the thread ends"
  )
  func failedLoadWithThread() throws {
    try withKernel(["--host-symbols"]) { k in
      let object = try KernelFixtures.object(
        "containment/thread.c", as: "threadfail", defines: ["FAILLOAD"])
      expectRun(
        try k.run("modload", "-e", "thread_lkmentry", object), 14,
        stderr: "modload: error initializing module: Input/output error\n")
      #expect(
        try k.dmesg().contains(
          "lkm: module 'thread' (id 0) failed to load but a thread it started still runs: its memory stays until it ends\n"
        ))
      // Its id is not given away while the thread runs on it.
      expectRun(
        try k.run("modload", KernelFixtures.object("hello/hello.c")), 0,
        stdout: "Module loaded as ID 1\n")
      // Once the thread has ended (after about a second), id 0 is free again.
      let twin = try KernelFixtures.object("containment/twin.c")
      var load = try k.run("modload", twin)
      for _ in 0..<100 where load.stdout != "Module loaded as ID 0\n" {
        expectRun(try k.run("modunload", "-n", "twin"), 0)
        usleep(100_000)
        load = try k.run("modload", twin)
      }
      expectRun(load, 0, stdout: "Module loaded as ID 0\n")
    }
  }

  @Test(
    "a system call slot a module wrote and left is put back; the slot is ENOSYS, never a call into freed memory"
  )
  func abandonedSlotIsRestored() throws {
    try withKernel { k in
      expectRun(
        try k.run("modload", KernelFixtures.object("containment/slotsteal.c")), 14,
        stderr: "modload: error initializing module: Input/output error\n")
      #expect(
        try k.dmesg().contains(
          #/lkm: sysent\[215\] pointed to 0x[0-9a-f]+, which no loaded module owns: restored\n/#))
      expectRun(try k.run("lkmctl", "syscall", "215"), 1, stderr: notImplemented(215))
    }
  }

  @Test("modstat reports a module whose LKM_E_STAT faults, lists the others and exits 3")
  func statFault() throws {
    try withKernel { k in
      let bad = try KernelFixtures.object("containment/hooks.c", as: "statfault", defines: ["STAT"])
      expectRun(
        try k.run("modload", "-e", "statfault_lkmentry", bad), 0, stdout: "Module loaded as ID 0\n")
      expectRun(
        try k.run("modload", KernelFixtures.object("hello/hello.c")), 0,
        stdout: "Module loaded as ID 1\n")
      let listing = try k.run("modstat")
      #expect(listing.status == 3, "\(listing)")
      #expect(
        listing.stderr == "modstat: LMSTAT: module 0: Bad address\n\(oopsHint("modstat"))",
        "\(listing)")
      #expect(
        ModstatListing(listing.stdout).masked == ModstatListing.header
          + modstatRow("SYSCALL", 1, 210, "hello"))
      // Marked faulted, its stat is not called again: the next listing shows it.
      #expect(
        ModstatListing(try k.modstat()).masked
          == ModstatListing.header + modstatRow("MISC", 0, 0, "statfault (faulted)")
          + modstatRow("SYSCALL", 1, 210, "hello"))
    }
  }

  @Test("a module whose unload hook faults is removed with modunload -f, its tables put back")
  func forcedUnload() throws {
    try withKernel { k in
      let bad = try KernelFixtures.object(
        "containment/hooks.c", as: "unloadfault", defines: ["UNLOAD"])
      expectRun(
        try k.run("modload", "-e", "unloadfault_lkmentry", bad), 0,
        stdout: "Module loaded as ID 0\n")
      let first = try k.run("modunload", "-n", "unloadfault")
      #expect(
        first.outcome
          == Outcome(
            status: 5, stdout: "",
            stderr:
              "modunload: LMUNLOAD: Bad address\nmodunload: the unload hook faulted: 'modunload -f' removes the module without it\n\(oopsHint("modunload"))"
          ))
      expectRun(try k.run("modunload", "-f", "-n", "unloadfault"), 0)
      #expect(try k.modstat() == ModstatListing.header)
      #expect(
        try k.dmesg().contains(
          "lkm: module 'unloadfault' (id 0) removed by force: its unload hook and destructors were not run\n"
        ))
    }
  }

  @Test("module names are unique whatever the type, and modload -n says so as a load does")
  func uniqueNames() throws {
    try withKernel { k in
      let twin = try KernelFixtures.object("containment/twin.c")
      expectRun(try k.run("modload", "-s", twin), 0, stdout: "Module loaded as ID 0\n")
      expectRun(
        try k.run("modload", "-s", twin), 14,
        stderr: "modload: error initializing module: File exists\n")
      expectRun(
        try k.run("modload", "-n", "-s", twin), 1,
        stderr: "modload: module 'twin' is already loaded\n")
      #expect(
        ModstatListing(try k.modstat()).masked == ModstatListing.header
          + modstatRow("MISC", 0, 0, "twin"))
    }
  }

  @Test(
    "modules in the boot file load at every boot; a line that takes the kernel down is skipped from then on"
  )
  func bootFile() throws {
    let directory = try TestSupport.temporaryDirectory("lkm-boot")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let hello = try KernelFixtures.object("hello/hello.c")
    let killer = try KernelFixtures.object(
      "containment/libc.c", as: "libc_exit", defines: ["LIBC_EXIT"])
    try """
    # modules of every boot
    modload \(hello)
    modload -e libc_lkmentry \(killer)
    """.write(toFile: directory + "/boot", atomically: true, encoding: .utf8)
    try withKernel(["--host-symbols", "--boot", directory + "/boot"]) { k in
      // The second line killed the first boot's kernel: rebooted, hello loaded again, the line
      // skipped from then on.
      var listing = ""
      for _ in 0..<200 {
        listing = try k.modstat()
        if try k.dmesg().contains("skipped from now on") && listing.contains("hello") { break }
        usleep(20_000)
      }
      #expect(
        ModstatListing(listing).masked == ModstatListing.header
          + modstatRow("SYSCALL", 0, 210, "hello"))
      let dmesg = try k.dmesg()
      #expect(dmesg.contains("boot: modload \(hello): Module loaded as ID 0\n"), "dmesg:\n\(dmesg)")
      #expect(
        dmesg.contains(
          "boot: line 3 ('modload -e libc_lkmentry \(killer)') took the kernel down: skipped from now on\n"
        ), "dmesg:\n\(dmesg)")
      // Another reboot (a module ending the process) loads hello again, and only hello.
      let exit2 = try KernelFixtures.object(
        "containment/libc.c", as: "libc_exit", defines: ["LIBC_EXIT"])
      let load = try k.run("modload", "-e", "libc_lkmentry", exit2)
      #expect(load.status == 14, "\(load)")
      for _ in 0..<200 {
        listing = try k.modstat()
        if listing.contains("hello") { break }
        usleep(20_000)
      }
      #expect(
        ModstatListing(listing).masked == ModstatListing.header
          + modstatRow("SYSCALL", 0, 210, "hello"))
    }
  }
}

/// The kernel executable's .data and .bss at run time: from `lkmctl ksyms printf` and the
/// executable's own symbol table (nm) the load bias, then the sections from readelf.
func kernelData(_ k: KernelProcess) throws -> (UInt64, Int) {
  let executable = try FileManager.default.destinationOfSymbolicLink(
    atPath: "/proc/\(try k.kernelPID())/exe")
  let ksyms = try k.run("lkmctl", "ksyms", "printf").stdout
  guard let runtime = ksyms.split(separator: " ").first.flatMap({ UInt64($0, radix: 16) }) else {
    throw TestSupport.Failure("no printf in ksyms: \(ksyms)")
  }
  let nm = try TestSupport.run("/usr/bin/nm", [executable]).stdout
  guard let line = nm.split(separator: "\n").first(where: { $0.hasSuffix(" clkm_printf") }),
    let linked = UInt64(line.split(separator: " ")[0], radix: 16)
  else { throw TestSupport.Failure("no clkm_printf in \(executable)") }
  let bias = runtime - linked
  let sections = try TestSupport.run("/usr/bin/readelf", ["-SW", executable]).stdout
  func section(_ name: String) throws -> (UInt64, UInt64) {
    guard let row = sections.split(separator: "\n").first(where: { $0.contains(" \(name) ") })
    else {
      throw TestSupport.Failure("no \(name) in \(executable)")
    }
    let fields = row.split(separator: "]").last!.split(separator: " ")
    return (UInt64(fields[2], radix: 16)!, UInt64(fields[4], radix: 16)!)
  }
  let data = try section(".data")
  let bss = try section(".bss")
  return (bias + data.0, Int(bss.0 + bss.1 - data.0))
}
