import Foundation
import Glibc
import TestSupport
import Testing

// The memory file system module (Fixtures/lkm/memfs) through lkmctl, and host mounts: memfs
// mounted on a host directory through FUSE (lkmctl mount --host) and the kernel's /dev
// exported (lkmd --host-dev), driven by ordinary programs and compared with tmpfs, and every
// way a host mount ends.

/// Whether FUSE mounts can be made here; if not, why (the host mount tests are skipped with
/// this reason).
enum HostMountSupport {
  static let unavailableReason: String? = {
    let fd = unsafe open("/dev/fuse", O_RDWR | O_CLOEXEC)
    if fd < 0 {
      return
        unsafe "host mounts not tested: /dev/fuse cannot be opened (\(String(cString: strerror(errno))))"
    }
    close(fd)
    if geteuid() != 0 && !FileManager.default.isExecutableFile(atPath: "/usr/bin/fusermount3") {
      return "host mounts not tested: not root and no /usr/bin/fusermount3 (apt-get install fuse3)"
    }
    return nil
  }()
  static var available: Bool { unavailableReason == nil }
  static var comment: Comment { Comment(rawValue: unavailableReason ?? "FUSE is usable") }
}

enum HostMountFixtures {
  static func memfs() throws -> [String] {
    [
      try KernelFixtures.object("memfs/memfs_vfsops.c"),
      try KernelFixtures.object("memfs/memfs_vnops.c"),
    ]
  }

  /// Fixtures/hostmount/fileops.c, compiled once.
  static func fileops() throws -> String {
    try KernelFixtures.build("fileops") {
      "gcc -O2 -o '\($0)' '\(TestSupport.fixture("hostmount/fileops.c"))'"
    }
  }

  /// A directory on tmpfs (/dev/shm), else an ordinary temporary directory.
  static func tmpfsDirectory() throws -> String {
    let path = "/dev/shm/lkm-compare-\(UUID().uuidString.prefix(8))"
    if (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false))
      != nil
    {
      return path
    }
    return try TestSupport.temporaryDirectory("lkm-compare")
  }
}

/// The file system type the host's mount table gives `path`, if it is a mount point.
func hostMountType(_ path: String) -> String? {
  guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else {
    return nil
  }
  var found: String?
  for line in table.split(separator: "\n") {
    let fields = line.split(separator: " ")
    guard fields.count > 5, fields[4] == path, let dash = fields.firstIndex(of: "-"),
      dash + 1 < fields.count
    else { continue }
    found = String(fields[dash + 1])
  }
  return found
}

/// The records of the host mounts of the lkmd on `device`.
func hostMountRecords(_ device: String) -> [String] {
  let folder = URL(fileURLWithPath: device).deletingLastPathComponent().path + "/host-mounts"
  return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

/// A new host directory (its real path).
func hostDirectory() throws -> String {
  let path = try TestSupport.temporaryDirectory("lkm-host")
  return URL(fileURLWithPath: path).resolvingSymlinksInPath().path
}

/// Loads memfs and mounts it on /mem in the kernel and on `host` on the host.
func mountMemfsOnHost(_ k: KernelProcess, _ host: String) throws {
  expectRun(
    try k.run("modload", ["-e", "memfsmod"] + HostMountFixtures.memfs()), 0,
    stdout: "Module loaded as ID 0\n")
  expectRun(try k.run("lkmctl", "mount", "--host", host, "memfs", "/mem"), 0)
  #expect(hostMountType(host) == "fuse.lkm")
}

@Suite("memfs: a memory file system module in OpenBSD 5.2 style")
struct MemfsTests {
  @Test(
    "memfs through lkmctl: write, cat, ls -l, mkdir, mv, rm; EBUSY to unload while mounted; nothing leaked"
  )
  func memfsThroughLkmctl() throws {
    try withKernel { k in
      expectRun(
        try k.run("modload", ["-e", "memfsmod"] + HostMountFixtures.memfs()), 0,
        stdout: "Module loaded as ID 0\n")
      #expect(ModstatListing(try k.modstat()).rows.map(\.name) == ["memfs"])
      expectRun(try k.run("lkmctl", "mount", "-t"), 0, stdout: "memfs 0 0\n")
      expectRun(try k.run("lkmctl", "mount", "memfs", "/mem"), 0)
      expectRun(
        try k.run("lkmctl", "mount"), 0,
        stdout: "rootfs on / type rootfs (local)\nmemfs on /mem type memfs (local)\n")
      expectRun(try k.run("lkmctl", "write", "/mem/hello", "hello, memfs\n"), 0)
      expectRun(try k.run("lkmctl", "cat", "/mem/hello"), 0, stdout: "hello, memfs\n")
      expectRun(try k.run("lkmctl", "write", "-o", "7", "/mem/hello", "MEMFS"), 0)
      expectRun(try k.run("lkmctl", "cat", "/mem/hello"), 0, stdout: "hello, MEMFS\n")
      expectRun(try k.run("lkmctl", "mkdir", "/mem/d"), 0)
      expectRun(try k.run("lkmctl", "mv", "/mem/hello", "/mem/d/hi"), 0)
      expectRun(
        try k.run("lkmctl", "ls", "-l", "/mem"), 0, stdout: "drwxr-xr-x        96 d\n")
      expectRun(try k.run("lkmctl", "ls", "-l", "/mem/d"), 0, stdout: "-rw-r--r--        13 hi\n")
      expectRun(
        try k.run("lkmctl", "cat", "/mem/hello"), 1,
        stderr: "lkmctl: /mem/hello: No such file or directory\n")
      expectRun(
        try k.run("lkmctl", "rm", "-d", "/mem/d"), 1,
        stderr: "lkmctl: /mem/d: Directory not empty\n")
      // A write larger than a session's 64 KiB of waiting buffer.
      let big = String(repeating: "0123456789", count: 10_000)
      expectRun(try k.run("lkmctl", "write", "/mem/big", big), 0)
      expectRun(try k.run("lkmctl", "cat", "/mem/big"), 0, stdout: big)
      expectRun(
        try k.run("modunload", "-n", "memfs"), 5,
        stderr: "modunload: LMUNLOAD: Device busy\n")
      expectRun(try k.run("lkmctl", "rm", "/mem/d/hi"), 0)
      expectRun(try k.run("lkmctl", "rm", "-d", "/mem/d"), 0)
      expectRun(try k.run("lkmctl", "ls", "/mem"), 0, stdout: "big\n")
      // Unmounting frees what is left (the big file); then the module goes, owning nothing.
      expectRun(try k.run("lkmctl", "umount", "/mem"), 0)
      expectRun(try k.run("modunload", "-n", "memfs"), 0)
      let dmesg = try k.dmesg()
      #expect(!dmesg.contains("leaked"), "\(dmesg)")
    }
  }
}

@Suite(
  "host mounts: memfs and /dev on the host through FUSE", .serialized,
  .enabled(if: HostMountSupport.available, HostMountSupport.comment))
struct HostMountTests {
  /// Runs Fixtures/hostmount/coreutils.sh in `directory`: its status, stdout and stderr.
  func coreutils(in directory: String) throws -> String {
    let result = try TestSupport.run(
      "/bin/sh", [TestSupport.fixture("hostmount/coreutils.sh"), "/etc/services"],
      directory: directory)
    return "status \(result.status)\n\(result.stdout)--- stderr\n\(result.stderr)"
  }

  @Test(
    "ls, cat, cp, mkdir, mv, rm, find, sed -i, dd on a host mount of memfs do what they do on tmpfs"
  )
  func coreutilsMatchTmpfs() throws {
    let host = try hostDirectory()
    let tmpfs = try HostMountFixtures.tmpfsDirectory()
    defer { try? FileManager.default.removeItem(atPath: tmpfs) }
    try withKernel { k in
      try mountMemfsOnHost(k, host)
      let expected = try coreutils(in: tmpfs)
      #expect(expected.hasPrefix("status 0\n") && expected.contains("\ndone\n"), "\(expected)")
      #expect(try coreutils(in: host) == expected)
      // The files are the kernel's: what the host writes, lkmctl reads through the VFS.
      try "from the host\n".write(toFile: host + "/note", atomically: false, encoding: .utf8)
      expectRun(try k.run("lkmctl", "cat", "/mem/note"), 0, stdout: "from the host\n")
      expectRun(try k.run("lkmctl", "write", "/mem/back", "from the kernel"), 0)
      #expect(try String(contentsOfFile: host + "/back", encoding: .utf8) == "from the kernel")
      expectRun(try k.run("lkmctl", "umount", "/mem"), 0)
      #expect(hostMountType(host) == nil)
    }
  }

  @Test("a C program's open, read, write, readdir, rename and unlink on a host mount match tmpfs")
  func systemCallsMatchTmpfs() throws {
    let program = try HostMountFixtures.fileops()
    let host = try hostDirectory()
    let tmpfs = try HostMountFixtures.tmpfsDirectory()
    defer { try? FileManager.default.removeItem(atPath: tmpfs) }
    try withKernel { k in
      try mountMemfsOnHost(k, host)
      let expected = try TestSupport.run(program, [tmpfs])
      #expect(expected.status == 0 && expected.stderr.isEmpty, "\(expected)")
      #expect(expected.stdout.contains("large: 3000000 bytes, read back the same\n"))
      let got = try TestSupport.run(program, [host])
      #expect(got.status == 0 && got.stderr.isEmpty, "\(got)")
      #expect(got.stdout == expected.stdout)
      expectRun(try k.run("lkmctl", "umount", "/mem"), 0)
    }
  }

  @Test(
    "unmounting in the kernel unmounts the host directory; open host files keep the kernel mount busy; modunload is EBUSY while mounted"
  )
  func kernelUnmount() throws {
    let host = try hostDirectory()
    try withKernel { k in
      try mountMemfsOnHost(k, host)
      expectRun(
        try k.run("lkmctl", "mount"), 0,
        stdout:
          "rootfs on / type rootfs (local)\nmemfs on /mem type memfs (local, on the host at \(host))\n"
      )
      #expect(hostMountRecords(k.device).count == 1)
      expectRun(
        try k.run("lkmctl", "mount", "--host", host, "memfs", "/mem2"), 1,
        stderr: "lkmctl: \(host): already a mount point on the host\n")
      expectRun(
        try k.run("modunload", "-n", "memfs"), 5, stderr: "modunload: LMUNLOAD: Device busy\n")
      // A file the host holds open is a kernel descriptor: the kernel mount is busy.
      let handle = unsafe open(host + "/held", O_CREAT | O_RDWR, 0o644)
      #expect(handle >= 0)
      expectRun(try k.run("lkmctl", "umount", "/mem"), 1, stderr: "lkmctl: /mem: Device busy\n")
      close(handle)
      // FUSE sends the release after close(2) returns.
      #expect(eventually(5) { (try? k.run("lkmctl", "umount", "/mem").status) == 0 })
      #expect(hostMountType(host) == nil)
      #expect(hostMountRecords(k.device).isEmpty)
      expectRun(try k.run("modunload", "-n", "memfs"), 0)
    }
  }

  @Test(
    "a kernel unmount by another route (umount(2) through lkmctl syscall) ends the host mount too")
  func unmountedBehindItsBack() throws {
    let host = try hostDirectory()
    try withKernel { k in
      try mountMemfsOnHost(k, host)
      // unmount(2) with the path as a string argument: the server sees the mount gone.
      expectRun(try k.run("lkmctl", "syscall", "22", "/mem", "0"), 0, stdout: "retval = 0\n")
      #expect(eventually(5) { hostMountType(host) == nil })
      #expect(eventually(5) { hostMountRecords(k.device).isEmpty })
    }
  }

  @Test(
    "a host mount idle past lkmd's idle timeout goes on working (its dropped sessions are replaced)"
  )
  func idleSessionsReplaced() throws {
    let host = try hostDirectory()
    try withKernel(["--idle-timeout", "1"]) { k in
      try mountMemfsOnHost(k, host)
      // Several FUSE threads at once: several sessions in the server's pool.
      let writers = try (0..<6).map { i in
        try ToolProcess(
          "/bin/dd", ["if=/dev/zero", "of=\(host)/f\(i)", "bs=1M", "count=4", "status=none"],
          environment: [:])
      }
      for writer in writers { #expect(writer.wait().status == 0) }
      sleep(3)  // every pooled session is dropped by lkmd meanwhile
      #expect(((try? FileManager.default.contentsOfDirectory(atPath: host)) ?? []).count == 6)
      let data = try Data(contentsOf: URL(fileURLWithPath: host + "/f5"))
      #expect(data.count == 4 << 20)
      expectRun(try k.run("lkmctl", "umount", "/mem"), 0)
    }
  }

  @Test("lkmd stopping unmounts its host mounts")
  func lkmdStops() throws {
    let host = try hostDirectory()
    let k = try KernelProcess()
    try mountMemfsOnHost(k, host)
    let end = k.stop()
    #expect(end.status == 0 && !end.signaled, "\(end.console)")
    #expect(hostMountType(host) == nil)
    #expect(hostMountRecords(k.device).isEmpty)
  }

  @Test("a kernel reboot unmounts the host mounts of its file systems")
  func kernelReboot() throws {
    let host = try hostDirectory()
    try withKernel { k in
      try mountMemfsOnHost(k, host)
      kill(try k.kernelPID(), SIGKILL)
      #expect(eventually(10) { (try? k.dmesg().contains("lkmd: kernel rebooted in ")) == true })
      #expect(eventually(5) { hostMountType(host) == nil })
      #expect(eventually(5) { hostMountRecords(k.device).isEmpty })
      expectRun(try k.run("lkmctl", "mount"), 0, stdout: "rootfs on / type rootfs (local)\n")
    }
  }

  @Test("a stale host mount left by a killed lkmd (and server) is removed at the next start")
  func staleMountCleanedUp() throws {
    let host = try hostDirectory()
    let first = try KernelProcess()
    try mountMemfsOnHost(first, host)
    let records = hostMountRecords(first.device)
    #expect(records.count == 1)
    // Both killed at once: nobody unmounts.
    for server in records.compactMap({ Int32($0) }) { kill(server, SIGKILL) }
    kill(first.process.processIdentifier, SIGKILL)
    _ = first.stop()
    #expect(eventually(5) { unsafe hostMountType(host) == "fuse.lkm" && access(host, F_OK) != 0 })
    #expect(hostMountRecords(first.device).count == 1)
    let second = try KernelProcess(device: first.device)
    defer { second.stop() }
    #expect(hostMountType(host) == nil)
    #expect(hostMountRecords(first.device).isEmpty)
    #expect(try second.dmesg().contains("lkmd: stale host mount of /mem on \(host) removed\n"))
  }

  @Test(
    "lkmd --host-dev: the kernel's /dev on the host, rot13 read and written by its driver, ioctl translated"
  )
  func hostDevices() throws {
    let program = try HostMountFixtures.fileops()
    let host = try hostDirectory()
    let k = try KernelProcess(["--host-dev", host])
    #expect(hostMountType(host) == "fuse.lkm")
    #expect(
      Set((try? FileManager.default.contentsOfDirectory(atPath: host)) ?? [])
        == ["console", "lkm", "null", "zero"])
    let object = try KernelFixtures.object("rot13/rot13.c")
    expectRun(
      try k.run("modload", "-p", TestSupport.fixture("lkm/rot13/rot13_postinstall.sh"), object), 0,
      stdout: "Module loaded as ID 0\n")
    #expect(eventually(5) { FileManager.default.fileExists(atPath: host + "/rot13") })
    try "Hello, World".write(toFile: host + "/rot13", atomically: false, encoding: .utf8)
    #expect(try String(contentsOfFile: host + "/rot13", encoding: .utf8) == "Uryyb, Jbeyq")
    // Linux's _IOW('r', 1, int) is OpenBSD's ROT13IOCSROT 0x80047201; _IOR('r', 2, int) its
    // ROT13IOCGROT 0x40047202.
    #expect(
      try TestSupport.run(program, ["ioctl", host + "/rot13", "0x40047201", "1"]).status == 0)
    #expect(try TestSupport.run(program, ["ioctl", host + "/rot13", "0x80047202"]).stdout == "1\n")
    try "HAL".write(toFile: host + "/rot13", atomically: false, encoding: .utf8)
    #expect(try String(contentsOfFile: host + "/rot13", encoding: .utf8) == "IBM")
    let zero = try TestSupport.run("/usr/bin/head", ["-c", "4", host + "/zero"])
    #expect(zero.stdout == "\0\0\0\0")
    let end = k.stop()
    #expect(end.status == 0 && !end.signaled, "\(end.console)")
    #expect(hostMountType(host) == nil)
  }

  @Test(
    "mount --host refuses a host directory that is missing, and a file system type the kernel does not have"
  )
  func hostMountFailures() throws {
    let host = try hostDirectory()
    try withKernel { k in
      expectRun(
        try k.run("lkmctl", "mount", "--host", host + "/missing", "memfs", "/mem"), 1,
        stderr: "lkmctl: \(host)/missing: No such file or directory\n")
      expectRun(
        try k.run("lkmctl", "mount", "--host", host, "nofs", "/mem"), 1,
        stderr: "lkmctl: /mem: Operation not supported\n")
      #expect(hostMountType(host) == nil)
      expectRun(try k.run("lkmctl", "mount"), 0, stdout: "rootfs on / type rootfs (local)\n")
    }
  }
}
