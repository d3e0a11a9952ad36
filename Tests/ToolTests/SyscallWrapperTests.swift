import Foundation
import TestSupport
import Testing

/// lkm(4): "All system calls may be replaced, but special care should be taken with the
/// ioctl(2) system call, as it is used to load and unload modules." What lkmctl does enters the
/// kernel through sysent, so a module that replaces or wraps a system call changes what every
/// client sees, and unloading it restores the old entry (Fixtures/lkm/wrappers).
@Suite("system calls replaced and wrapped by modules")
struct SyscallWrapperTests {
  @Test("hide: a getdents(2) filter hides names from every listing until it is unloaded")
  func getdentsFilter() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    for dir in ["/secret-plans", "/plain", "/secretive"] {
      #expect(try k.ok("lkmctl", "mkdir", dir) == "")
    }
    #expect(try k.ok("lkmctl", "ls", "/") == "dev\nplain\nsecret-plans\nsecretive\n")
    let hide = try KernelFixtures.object("wrappers/hide.c")
    #expect(try k.ok("modload", "-e", "hide_lkmentry", hide) == "Module loaded as ID 0\n")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "SYSCALL   0  99 ADDRESS SIZE INFO   2 hide\n")
    #expect(try k.ok("lkmctl", "ls", "/") == "dev\nplain\n")
    // Only listings change: the directories are still there by name.
    #expect(try k.ok("lkmctl", "ls", "-l", "/secretive").isEmpty)
    #expect(try k.ok("lkmctl", "rm", "-d", "/secretive") == "")
    // Every record of a batch hidden: the filter reads on rather than say "the end".
    #expect(try k.ok("lkmctl", "ls", "/secret-plans") == "")
    _ = try k.ok("modstat", "-n", "hide")
    #expect(try k.ok("lkmctl", "dmesg").contains("hide: 2 names hidden\n"))
    #expect(try k.ok("modunload", "-n", "hide") == "")
    #expect(try k.ok("lkmctl", "ls", "/") == "dev\nplain\nsecret-plans\n")
  }

  @Test("shout: a read(2) wrapper that calls the entry it replaced; unloading restores it")
  func readWrapper() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let rot13 = try KernelFixtures.object("rot13/rot13.c")
    #expect(try k.ok("modload", "-e", "rot13_lkmentry", rot13) == "Module loaded as ID 0\n")
    #expect(try k.ok("lkmctl", "mknod", "/dev/rot13", "c", "11", "0") == "")
    #expect(try k.ok("lkmctl", "write", "/dev/rot13", "Hello, world") == "")
    #expect(try k.ok("lkmctl", "read", "/dev/rot13") == "Uryyb, jbeyq")
    let shout = try KernelFixtures.object("wrappers/shout.c")
    #expect(try k.ok("modload", "-e", "shout_lkmentry", shout) == "Module loaded as ID 1\n")
    #expect(try k.ok("lkmctl", "read", "/dev/rot13") == "URYYB, JBEYQ")
    #expect(try k.ok("lkmctl", "read", "/dev/rot13", "5") == "URYYB")
    // pread(2) is another system call: not wrapped.
    #expect(try k.ok("lkmctl", "read", "-o", "7", "/dev/rot13") == "jbeyq")
    // The kernel's own system calls still work beside it.
    #expect(try k.ok("lkmctl", "syscall", "20").hasPrefix("retval = "))
    #expect(try k.ok("modunload", "-n", "shout") == "")
    #expect(try k.ok("lkmctl", "read", "/dev/rot13") == "Uryyb, jbeyq")
    #expect(try k.ok("modunload", "-n", "rot13") == "")
  }

  @Test("badioctl: an ioctl(2) that breaks every load and unload; modunload -f is the way out")
  func brokenIoctl() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let bad = try KernelFixtures.object("wrappers/badioctl.c")
    let shout = try KernelFixtures.object("wrappers/shout.c")
    #expect(try k.ok("modload", "-e", "badioctl_lkmentry", bad) == "Module loaded as ID 0\n")
    let load = try k.run("modload", "-e", "shout_lkmentry", shout)
    #expect(load.status != 0)
    #expect(load.stderr.contains("Inappropriate ioctl for device"), "\(load)")
    #expect(load.stderr.contains("modunload -f -n badioctl"), "\(load)")
    let unload = try k.run("modunload", "-n", "badioctl")
    #expect(unload.status == 5)
    #expect(
      unload.stderr
        == "modunload: LMUNLOAD: Inappropriate ioctl for device\n"
        + "modunload: ioctl(2) (sysent[54]) is module 'badioctl''s and refused the request; "
        + "modunload -f -n badioctl unloads it around the system call table\n")
    // modstat still lists (per module, the error of its LMSTAT), and ends.
    let stat = try k.run("modstat")
    #expect(stat.status == 3)
    #expect(stat.stderr.contains("Inappropriate ioctl for device"))
    // The way out OpenBSD did not have: around the system call table.
    #expect(try k.ok("modunload", "-f", "-n", "badioctl") == "")
    #expect(try k.ok("modload", "-e", "shout_lkmentry", shout) == "Module loaded as ID 0\n")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "SYSCALL   0   3 ADDRESS SIZE INFO   2 shout\n")
  }

  @Test(
    "a module's system call handler that faults is EFAULT and an oops; the slot is restored at unload"
  )
  func faultingWrapper() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let dir = try TestSupport.temporaryDirectory("faultwrap")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try """
    #include <sys/param.h>
    #include <sys/systm.h>
    #include <sys/syscall.h>
    #include <sys/lkm.h>
    static int bad_getpid(struct proc *p, void *v, register_t *rv) { return *(volatile int *)0; }
    static struct sysent ent = { 0, 0, 0, bad_getpid };
    MOD_SYSCALL("badpid", SYS_getpid, &ent)
    int badpid_lkmentry(struct lkm_table *t, int cmd, int ver) {
    \tDISPATCH(t, cmd, ver, lkm_nofunc, lkm_nofunc, lkm_nofunc)
    }

    """.write(toFile: dir + "/badpid.c", atomically: true, encoding: .utf8)
    try KernelFixtures.compile(dir + "/badpid.c", to: dir + "/badpid.o")
    #expect(try k.ok("modload", dir + "/badpid.o") == "Module loaded as ID 0\n")
    let call = try k.run("lkmctl", "syscall", "20")
    #expect(
      call.status == 1 && call.stderr.hasPrefix("lkmctl: syscall 20: Bad address\n"), "\(call)")
    #expect(
      try k.ok("lkmctl", "dmesg").contains(
        "oops: module 'badpid' (id 0) during system call 20 (getpid): SIGSEGV at address 0x0"))
    #expect(try k.ok("modunload", "-n", "badpid") == "")
    #expect(try k.ok("lkmctl", "syscall", "20").hasPrefix("retval = "))
  }
}
