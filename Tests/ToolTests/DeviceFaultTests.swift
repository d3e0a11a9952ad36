import Foundation
import TestSupport
import Testing

/// Faults in device, file system and interpreter code are contained as in the kernel issue:
/// the request fails with EFAULT, the message buffer gets an oops, the module is marked
/// faulted and the kernel keeps serving. Pointers that are not module code or not the
/// kernel's vnodes are refused before they are followed.
@Suite("faults in devices, file systems and interpreters")
struct DeviceFaultTests {
  @Test("a device whose read faults, whose write is not code and whose ioctl never returns")
  func faultingDevice() throws {
    let k = try KernelProcess(["--watchdog", "1"])
    #expect(
      try k.ok("modload", try KernelFixtures.object("devtests/faultdev.c"))
        == "Module loaded as ID 0\n")
    #expect(try k.ok("lkmctl", "mknod", "/dev/fault", "c", "11", "0") == "")
    // A fault (read, ioctl) points to its oops; a d_write that is not code faults nothing.
    for (command, faulted) in [
      (["read", "/dev/fault"], true), (["write", "/dev/fault", "x"], false),
      (["ioctl", "/dev/fault", "0x20007201"], true),
    ] {
      let result = try TestSupport.run(
        TestSupport.product("lkmctl"), command, environment: k.environment)
      #expect(
        result.stderr == "lkmctl: /dev/fault: Bad address\n" + (faulted ? oopsHint("lkmctl") : "")
          && result.status == 1, "\(command): \(result)")
    }
    let dmesg = try k.ok("lkmctl", "dmesg")
    #expect(
      dmesg.contains(
        "oops: module 'faultdev' (id 0) during read of /dev/fault (cdevsw[11]): SIGSEGV at address 0x0, pc 0x"
      ))
    #expect(dmesg.contains(" (faultread"))
    #expect(dmesg.contains("lkm: cdevsw[11].d_write 0x1234 is not module code\n"))
    #expect(
      dmesg.contains(
        "oops: module 'faultdev' (id 0) during ioctl of /dev/fault (cdevsw[11]): watchdog: ran longer than the watchdog allows (1 s), pc 0x"
      ))
    #expect(dmesg.contains("kernel tainted\n"))

    // The kernel keeps serving, and the module can go.
    #expect(try k.ok("lkmctl", "read", "/dev/zero", "2") == "\0\0")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "DEV       0  11 ADDRESS SIZE INFO   2 faultdev (faulted)\n")
    #expect(try k.ok("modunload", "-n", "faultdev") == "")
    #expect(
      try k.run("lkmctl", "read", "/dev/fault").stderr
        == "lkmctl: /dev/fault: Operation not supported by device\n")
  }

  @Test("a file system whose read faults and whose lookup returns something that is not a vnode")
  func faultingFileSystem() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    #expect(
      try k.ok("modload", try KernelFixtures.object("devtests/faultfs.c"))
        == "Module loaded as ID 0\n")
    #expect(try k.ok("lkmctl", "mount", "faultfs", "/f") == "")
    let read = try k.run("lkmctl", "cat", "/f/file")
    #expect(
      read.stderr == "lkmctl: /f/file: Bad address\n\(oopsHint("lkmctl"))" && read.status == 1)
    let bogus = try k.run("lkmctl", "cat", "/f/bogus")
    #expect(bogus.stderr == "lkmctl: /f/bogus: Bad address\n" && bogus.status == 1)
    let unsupported = try k.run("lkmctl", "ls", "/f")
    #expect(unsupported.stderr == "lkmctl: /f: Operation not supported\n")
    let dmesg = try k.ok("lkmctl", "dmesg")
    #expect(
      dmesg.contains(
        "oops: module 'faultfs' (id 0) during read of /f/file (vop_read): SIGSEGV at address 0x0, pc 0x"
      ))
    #expect(
      dmesg.contains(
        "lkm: vop_lookup of 'faultfs' returned 0x1000, not a vnode getnewvnode gave the mount\n"))

    #expect(try k.ok("lkmctl", "ls", "/") == "dev\nf\n")
    let busy = try k.run("modunload", "-n", "faultfs")
    #expect(busy.stderr == "modunload: LMUNLOAD: Device busy\n" && busy.status == 5)
    #expect(try k.ok("lkmctl", "umount", "/f") == "")
    #expect(try k.ok("modunload", "-n", "faultfs") == "")
    #expect(try k.ok("modstat") == ModstatListing.header)
  }

  @Test("an interpreter whose program faults")
  func faultingInterpreter() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    #expect(
      try k.ok("modload", try KernelFixtures.object("devtests/faultexec.c"))
        == "Module loaded as ID 0\n")
    let program = try k.file("crash.fault", "#!fault\n")
    let result = try k.run("lkmctl", "exec", program)
    #expect(
      result.stderr == "lkmctl: \(program): Bad address\n\(oopsHint("lkmctl"))"
        && result.status == 1)
    #expect(
      try k.ok("lkmctl", "dmesg").contains(
        "oops: module 'faultexec' (id 0) during exec of '\(program)': SIGSEGV at address 0x0"))
    #expect(
      try k.run("lkmctl", "exec", try k.file("other", "#!other\n")).stderr.hasSuffix(
        ": Exec format error\n"))
    #expect(try k.ok("modunload", "-n", "faultexec") == "")
  }

  @Test("lkmd stops with file systems mounted and device modules loaded")
  func shutdown() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    try k.ok(
      "modload", "-e", "kernfsmod", try KernelFixtures.object("kernfs/kernfsmod.c"),
      try KernelFixtures.object("kernfs/kernfs_vnops.c"))
    try k.ok("modload", try KernelFixtures.object("rd/rd.c"))
    try k.ok("lkmctl", "mount", "kernfs", "/kern")
    let end = k.stop()
    #expect(end.status == 0 && !end.signaled)
    #expect(end.console.hasSuffix("lkmd: stopped\n"))
    #expect(!(end.console + k.standardError).contains("refused"))
  }
}
