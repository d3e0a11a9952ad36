import Foundation
import TestSupport
import Testing

/// The device, file system and exec examples of Fixtures/lkm, end to end through modload,
/// lkmctl, modstat and modunload against a real lkmd.
@Suite("device, file system and exec examples")
struct DeviceExampleTests {
  @Test(
    "rot13: a character device in major 11, its node made by the postinstall script, restored on unload"
  )
  func rot13() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let object = try KernelFixtures.object("rot13/rot13.c")
    let postinstall = KernelFixtures.fixture("rot13/rot13_postinstall.sh")
    #expect(try k.ok("modload", "-p", postinstall, object) == "Module loaded as ID 0\n")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "DEV       0  11 ADDRESS SIZE INFO   2 rot13\n")
    #expect(try k.ok("lkmctl", "ls", "/dev") == "console\nlkm\nnull\nrot13\nzero\n")
    #expect(try k.ok("lkmctl", "ls", "-l", "/dev/rot13") == "crw-------   11,   0 rot13\n")

    #expect(try k.ok("lkmctl", "write", "/dev/rot13", "Hello, world") == "")
    #expect(try k.ok("lkmctl", "read", "/dev/rot13") == "Uryyb, jbeyq")
    #expect(try k.ok("lkmctl", "read", "/dev/rot13", "5") == "Uryyb")
    #expect(try k.ok("lkmctl", "read", "-o", "7", "/dev/rot13") == "jbeyq")
    #expect(try k.ok("lkmctl", "cat", "/dev/rot13") == "Uryyb, jbeyq")
    #expect(try k.ok("lkmctl", "ioctl", "/dev/rot13", "0x40047202") == "13\n")  // ROT13IOCGROT
    #expect(try k.ok("lkmctl", "ioctl", "/dev/rot13", "0x80047201", "1") == "")  // ROT13IOCSROT
    #expect(try k.ok("lkmctl", "read", "/dev/rot13") == "Ifmmp, xpsme")
    #expect(try k.ok("lkmctl", "ioctl", "/dev/rot13", "0x40047203") == "12\n")  // ROT13IOCGLEN

    let bad = try k.run("lkmctl", "ioctl", "/dev/rot13", "0x80047201", "26")
    #expect(bad.status == 1 && bad.stdout.isEmpty)
    #expect(bad.stderr == "lkmctl: /dev/rot13: Invalid argument\n")
    let unknown = try k.run("lkmctl", "ioctl", "/dev/rot13", "0x20007263")
    #expect(
      unknown.stderr == "lkmctl: /dev/rot13: Inappropriate ioctl for device\n"
        && unknown.status == 1)
    let minor = try k.run("lkmctl", "mknod", "/dev/rot13b", "c", "11", "1")
    #expect(minor.status == 0)
    #expect(
      try k.run("lkmctl", "read", "/dev/rot13b").stderr
        == "lkmctl: /dev/rot13b: Device not configured\n")
    #expect(
      try k.run("lkmctl", "mknod", "/dev/rot13", "c", "11", "0").stderr
        == "lkmctl: /dev/rot13: File exists\n")

    let postunload = KernelFixtures.fixture("rot13/rot13_postunload.sh")
    #expect(try k.ok("modunload", "-n", "rot13", "-p", postunload) == "")
    #expect(try k.ok("modstat") == ModstatListing.header)
    #expect(try k.ok("lkmctl", "ls", "/dev") == "console\nlkm\nnull\nrot13b\nzero\n")
    // The major holds lkmenodev again.
    let gone = try k.run("lkmctl", "read", "/dev/rot13b")
    #expect(
      gone.stderr == "lkmctl: /dev/rot13b: Operation not supported by device\n" && gone.status == 1)
    #expect(try k.ok("lkmctl", "rm", "/dev/rot13b") == "")
    #expect(
      try k.run("lkmctl", "rm", "/dev/rot13b").stderr
        == "lkmctl: /dev/rot13b: No such file or directory\n")
    #expect(try k.ok("modload", "-p", postinstall, object) == "Module loaded as ID 0\n")
    #expect(
      try k.ok("modstat", "-n", "rot13").maskedAddresses == ModstatListing.header
        + "DEV       0  11 ADDRESS SIZE INFO   2 rot13\n")
  }

  @Test(
    "rd: a RAM disk in block major 8, read and written across block boundaries, freed on unload")
  func ramDisk() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let object = try KernelFixtures.object("rd/rd.c")
    #expect(
      try k.ok("modload", "-p", KernelFixtures.fixture("rd/rd_postinstall.sh"), object)
        == "Module loaded as ID 0\n")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "DEV       0   8 ADDRESS SIZE INFO   2 rd\n")
    #expect(try k.ok("lkmctl", "ls", "-l", "/dev/rd0") == "brw-------    8,   0 rd0\n")
    #expect(try k.ok("lkmctl", "ioctl", "/dev/rd0", "0x40045201") == "65536\n")  // RDIOCGSIZE

    #expect(try k.ok("lkmctl", "write", "-o", "510", "/dev/rd0", "across a block boundary") == "")
    #expect(try k.ok("lkmctl", "read", "-o", "510", "/dev/rd0", "23") == "across a block boundary")
    #expect(
      try k.ok("lkmctl", "read", "-o", "500", "/dev/rd0", "12") == String(
        repeating: "\0", count: 10) + "ac")
    #expect(try k.ok("lkmctl", "read", "/dev/rd0").utf8.count == 65536)
    #expect(
      try k.ok("lkmctl", "read", "-o", "65530", "/dev/rd0", "100")
        == String(repeating: "\0", count: 6))
    #expect(try k.ok("lkmctl", "read", "-o", "70000", "/dev/rd0") == "")
    let full = try k.run("lkmctl", "write", "-o", "65536", "/dev/rd0", "x")
    #expect(full.stderr == "lkmctl: /dev/rd0: No space left on device\n" && full.status == 1)

    #expect(
      try k.ok("modunload", "-n", "rd", "-p", KernelFixtures.fixture("rd/rd_postunload.sh")) == "")
    #expect(try k.ok("lkmctl", "ls", "/dev") == "console\nlkm\nnull\nzero\n")
    #expect(!(try k.ok("lkmctl", "dmesg")).contains("leaked"))
  }

  @Test(
    "kernfs: OpenBSD's VFS example, type 11, modstat offset -1, mounted, read, written, EBUSY until unmounted"
  )
  func kernfs() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let module = try KernelFixtures.object("kernfs/kernfsmod.c")
    let vnops = try KernelFixtures.object("kernfs/kernfs_vnops.c")
    #expect(try k.ok("modload", "-e", "kernfsmod", module, vnops) == "Module loaded as ID 0\n")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "VFS       0  -1 ADDRESS SIZE INFO   2 kernfs\n")
    #expect(try k.ok("lkmctl", "mount", "-t") == "kernfs 11 0\n")
    #expect(try k.ok("lkmctl", "mount", "kernfs", "/kern") == "")
    #expect(
      try k.ok("lkmctl", "mount")
        == "rootfs on / type rootfs (local)\nkernfs on /kern type kernfs (local)\n")
    #expect(try k.ok("lkmctl", "mount", "-t") == "kernfs 11 1\n")
    #expect(try k.ok("lkmctl", "ls", "/") == "dev\nkern\n")
    #expect(try k.ok("lkmctl", "ls", "/kern") == "hostname\nhz\nmsgbuf\npagesize\ntime\nversion\n")

    let version = try k.ok("lkmctl", "sysctl", "kern.version")
    #expect(try "kern.version=" + k.ok("lkmctl", "cat", "/kern/version") == version)
    #expect(try k.ok("lkmctl", "cat", "/kern/hz") == "100\n")
    #expect(try k.ok("lkmctl", "cat", "/kern/pagesize") == "4096\n")
    #expect(
      try k.ok("lkmctl", "ls", "-l", "/kern/version")
        == "-r--r--r--  \(String(version.utf8.count - 13).leftPadded(8)) version\n")
    #expect(try k.ok("lkmctl", "write", "/kern/hostname", "kernfs-test\n") == "")
    #expect(try k.ok("lkmctl", "cat", "/kern/hostname") == "kernfs-test\n")
    #expect(try k.ok("lkmctl", "sysctl", "kern.hostname") == "kern.hostname=kernfs-test\n")
    let time = try k.ok("lkmctl", "cat", "/kern/time").split(separator: " ")
    let now = Int(Date().timeIntervalSince1970)
    #expect(time.count == 2 && abs((Int(time[0]) ?? 0) - now) < 10)
    #expect(try k.ok("lkmctl", "cat", "/kern/msgbuf") == k.ok("lkmctl", "dmesg"))

    for (command, expected) in [
      (["write", "/kern/version", "x"], "lkmctl: /kern/version: Input/output error\n"),
      (["write", "/kern/newfile", "x"], "lkmctl: /kern/newfile: Read-only file system\n"),
      (["cat", "/kern/nothing"], "lkmctl: /kern/nothing: No such file or directory\n"),
      (["cat", "/kern"], "lkmctl: /kern: Is a directory\n"),
      (["ls", "/kern/version/x"], "lkmctl: /kern/version/x: Not a directory\n"),
      (["mount", "kernfs", "/kern"], "lkmctl: /kern: Device busy\n"),
      (["mount", "kernfs", "/kern/sub"], "lkmctl: /kern/sub: No such file or directory\n"),
      (
        ["ioctl", "/kern/version", "0x40047202"],
        "lkmctl: /kern/version: Inappropriate ioctl for device\n"
      ),
    ] {
      let result = try TestSupport.run(
        TestSupport.product("lkmctl"), command, environment: k.environment)
      #expect(result.stderr == expected && result.status == 1, "\(command)")
    }

    let busy = try k.run("modunload", "-n", "kernfs")
    #expect(busy.stderr == "modunload: LMUNLOAD: Device busy\n" && busy.status == 5)
    #expect(try k.ok("lkmctl", "umount", "/kern") == "")
    #expect(try k.ok("lkmctl", "ls", "/") == "dev\n")
    // The mount point the mount made went with it; a directory that is not one is EINVAL.
    #expect(
      try k.run("lkmctl", "umount", "/kern").stderr == "lkmctl: /kern: No such file or directory\n")
    #expect(try k.run("lkmctl", "umount", "/dev").stderr == "lkmctl: /dev: Invalid argument\n")
    #expect(try k.ok("modunload", "-n", "kernfs") == "")
    #expect(try k.ok("lkmctl", "mount", "-t") == "")
    let unknown = try k.run("lkmctl", "mount", "kernfs", "/kern")
    #expect(unknown.stderr == "lkmctl: /kern: Operation not supported\n" && unknown.status == 1)
    #expect(!(try k.ok("lkmctl", "dmesg")).contains("leaked"))
  }

  @Test("rpn: an interpreter in execsw slot 0 runs its programs with arguments, output and status")
  func rpn() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let object = try KernelFixtures.object("rpn/rpn.c")
    let factorial = KernelFixtures.fixture("rpn/factorial.rpn")
    let notMine = try k.run("lkmctl", "exec", factorial)
    #expect(notMine.stderr == "lkmctl: \(factorial): Exec format error\n" && notMine.status == 1)

    #expect(try k.ok("modload", object) == "Module loaded as ID 0\n")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "EXEC      0   0 ADDRESS SIZE INFO   2 rpn\n")
    #expect(try k.ok("lkmctl", "exec", factorial, "10") == "factorial of 10 is 3628800\n")
    #expect(try k.ok("lkmctl", "exec", factorial) == "factorial of 5 is 120\n")
    #expect(
      try k.ok("lkmctl", "exec", KernelFixtures.fixture("rpn/fizzbuzz.rpn"), "5")
        == "1\n2\nFizz\n4\nBuzz\n")

    let status = try k.run(
      "lkmctl", "exec", try k.file("status.rpn", "#!rpn\n.\" bye\" cr 42 exit\n"))
    #expect(status.stdout == "bye\n" && status.stderr.isEmpty && status.status == 42)
    let broken = try k.file("broken.rpn", "#!rpn\n1 2 +\n+\n")
    let underflow = try k.run("lkmctl", "exec", broken)
    #expect(underflow.stdout == "rpn: \(broken):3: stack underflow\n" && underflow.status == 1)
    let loop = try k.run("lkmctl", "exec", try k.file("loop.rpn", "#!rpn\nbegin 0 until\n"))
    #expect(loop.stdout.hasSuffix(":2: too many steps\n") && loop.status == 1)
    let text = try k.file("text.txt", "#!rpnx\n1 .\n")
    #expect(try k.run("lkmctl", "exec", text).stderr == "lkmctl: \(text): Exec format error\n")
    #expect(
      try k.run("lkmctl", "exec", "/nonexistent.rpn").stderr
        == "lkmctl: /nonexistent.rpn: No such file or directory\n")

    #expect(try k.ok("modunload", "-n", "rpn") == "")
    #expect(
      try k.run("lkmctl", "exec", factorial).stderr == "lkmctl: \(factorial): Exec format error\n")
    #expect(!(try k.ok("lkmctl", "dmesg")).contains("leaked"))
  }

  @Test(
    "modstat shows every type with OpenBSD's offsets: syscall number, major, execsw index, -1 for a VFS"
  )
  func everyType() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    try k.ok(
      "modload", "-e", "newsyscall", try KernelFixtures.object("newsyscall/newsyscall.c"),
      try KernelFixtures.object("newsyscall/mycall.c"))
    try k.ok("modload", try KernelFixtures.object("rot13/rot13.c"))
    try k.ok("modload", try KernelFixtures.object("rd/rd.c"))
    try k.ok(
      "modload", "-e", "kernfsmod", try KernelFixtures.object("kernfs/kernfsmod.c"),
      try KernelFixtures.object("kernfs/kernfs_vnops.c"))
    try k.ok("modload", try KernelFixtures.object("rpn/rpn.c"))
    try k.ok(
      "modload", "-e", "miscmod", try KernelFixtures.object("miscmod/miscmod.c"),
      try KernelFixtures.object("miscmod/misccall.c"))
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "SYSCALL   0 210 ADDRESS SIZE INFO   2 newsyscall\n"
        + "DEV       1  11 ADDRESS SIZE INFO   2 rot13\n"
        + "DEV       2   8 ADDRESS SIZE INFO   2 rd\n"
        + "VFS       3  -1 ADDRESS SIZE INFO   2 kernfs\n"
        + "EXEC      4   0 ADDRESS SIZE INFO   2 rpn\n"
        + "MISC      5 211 ADDRESS SIZE INFO   2 miscmod\n")
    for name in ["miscmod", "rpn", "kernfs", "rd", "rot13", "newsyscall"] {
      try k.ok("modunload", "-n", name)
    }
    #expect(try k.ok("modstat") == ModstatListing.header)
  }
}

extension String {
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
