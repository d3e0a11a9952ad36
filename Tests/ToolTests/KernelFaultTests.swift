import Foundation
import TestSupport
import Testing

// Misbehaving modules: faults, panics and endless loops in module code are contained (an oops
// in the message buffer, EFAULT for the request, lkmd keeps serving); a replaced system call is
// restored; leaks are reported.

/// A module that fails its load by misbehaving, and how its oops reads.
struct LoadFault: Sendable, CustomStringConvertible {
  var source: String
  var name: String
  var function: String
  /// What the oops says happened, after "during LKM_E_LOAD: ".
  var what: String
  var description: String { name }
}

@Suite("kernel: faults are contained")
struct KernelFaultTests {
  static let loadFaults = [
    LoadFault(
      source: "misbehaving/nullderef.c", name: "nullderef", function: "nullderef_load",
      what: "SIGSEGV at address 0x0"),
    LoadFault(
      source: "misbehaving/panicky.c", name: "panicky", function: "panicky_load",
      what: "panic: panicky: refusing to run (cmd 1)"),
    LoadFault(
      source: "misbehaving/spin.c", name: "spin", function: "spin_load",
      what: "watchdog: ran longer than the watchdog allows (1 s)"),
  ]

  @Test(
    "a load handler that faults, panics or never returns fails the load with EFAULT",
    arguments: loadFaults)
  func loadFault(_ fault: LoadFault) throws {
    let object = try KernelFixtures.object(fault.source)
    try withKernel(["--watchdog", "1"]) { k in
      expectRun(
        try k.run("modload", object), 14,
        stderr: "modload: error initializing module: Bad address\n\(oopsHint("modload"))")
      // lkmd keeps serving, with nothing loaded and the id free.
      expectRun(try k.run("modstat"), 0, stdout: ModstatListing.header)
      let dmesg = try k.dmesg()
      let oops =
        NSRegularExpression.escapedPattern(
          for: "oops: module '\(fault.name)' (id 0) during LKM_E_LOAD: \(fault.what), pc 0x")
        + "[0-9a-f]+ \\(\(fault.function)\\+0x[0-9a-f]+\\) in module '\(fault.name)'\n"
      #expect(dmesg.contains(try Regex(oops)), "dmesg:\n\(dmesg)")
      #expect(dmesg.hasSuffix("kernel tainted\n"), "dmesg:\n\(dmesg)")
      expectRun(
        try k.run("modload", "-e", "newsyscall", KernelFixtures.newsyscall()), 0,
        stdout: "Module loaded as ID 0\n")
      expectRun(try k.run("lkmctl", "syscall", "210"), 0, stdout: "retval = 0\n")
      #expect(k.standardError == "")
    }
  }

  @Test("a system call that faults fails with EFAULT and marks its module faulted")
  func syscallFault() throws {
    let object = try KernelFixtures.object("misbehaving/faultcall.c")
    try withKernel { k in
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      #expect(
        ModstatListing(try k.modstat()).masked == ModstatListing.header
          + modstatRow("SYSCALL", 0, 210, "faultcall"))
      expectRun(
        try k.run("lkmctl", "syscall", "210"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n\(oopsHint("lkmctl"))")
      let dmesg = try k.dmesg()
      #expect(
        dmesg.contains(
          #/oops: module 'faultcall' \(id 0\) during system call 210: SIGSEGV at address 0x0, pc 0x[0-9a-f]+ \(faultcall_call\+0x[0-9a-f]+\) in module 'faultcall'\n/#
        ), "dmesg:\n\(dmesg)")
      #expect(
        dmesg.contains(#/\n  rax 0x[0-9a-f]+  rbx /#) && dmesg.hasSuffix("kernel tainted\n"),
        "dmesg:\n\(dmesg)")
      #expect(
        ModstatListing(try k.modstat()).masked
          == ModstatListing.header + modstatRow("SYSCALL", 0, 210, "faultcall (faulted)"))
      // Other requests are served; the module can still be unloaded and its slot is freed.
      let getpid = try k.run("lkmctl", "syscall", "20")
      expectRun(getpid, 0, stdout: "retval = \(getpid.pid)\n")
      expectRun(try k.run("modunload", "-n", "faultcall"), 0)
      expectRun(try k.run("lkmctl", "syscall", "210"), 1, stderr: notImplemented(210))
      #expect(try k.modstat() == ModstatListing.header)
      #expect(k.standardError == "")
    }
  }

  @Test("an explicit slot replaces an existing system call (getpid) until unload")
  func replaceGetpid() throws {
    let object = try KernelFixtures.object("misbehaving/mygetpid.c")
    try withKernel { k in
      let original = try k.run("lkmctl", "syscall", "20")
      expectRun(original, 0, stdout: "retval = \(original.pid)\n")
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      #expect(
        ModstatListing(try k.modstat()).masked == ModstatListing.header
          + modstatRow("SYSCALL", 0, 20, "mygetpid"))
      let replaced = try k.run("lkmctl", "syscall", "20")
      expectRun(replaced, 0, stdout: "retval = -\(replaced.pid)\n")
      // The free slots are untouched.
      expectRun(try k.run("lkmctl", "syscall", "210"), 1, stderr: notImplemented(210))
      expectRun(try k.run("modunload", "-n", "mygetpid"), 0)
      let restored = try k.run("lkmctl", "syscall", "20")
      expectRun(restored, 0, stdout: "retval = \(restored.pid)\n")
    }
  }

  @Test("memory a module did not free is reported, with its callers, and freed when it unloads")
  func leakReport() throws {
    let object = try KernelFixtures.object("misbehaving/leaky.c")
    try withKernel { k in
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      #expect(maskSymbolBytes(try k.dmesg()) == OpenBSDTexts.ddb)
      expectRun(try k.run("modunload", "-n", "leaky"), 0)
      #expect(
        maskOffsets(maskSymbolBytes(try k.dmesg()))
          == OpenBSDTexts.ddb
          + "lkm: module 'leaky' (id 0) leaked 128 bytes in 2 allocations, freed\n"
          + "lkm:   100 bytes from leaky_load+0x?\n" + "lkm:   28 bytes from leaky_load+0x?\n")
    }
  }
}
