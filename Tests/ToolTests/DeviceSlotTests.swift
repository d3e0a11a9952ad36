import Foundation
import TestSupport
import Testing

/// OpenBSD's slot rules for device and exec modules (first free placeholder, ENFILE when
/// none is left, an explicit slot replaces its entry and EINVAL past the table) and the
/// by-name rules of file systems (EEXIST).
@Suite("device and exec slots, file system names")
struct DeviceSlotTests {
  static let exhausted = "modload: error initializing module: Too many open files in system\n"
  /// EINVAL: modload retries as an old-style module first, as OpenBSD's did.
  static let outOfRange =
    "modload: module failed to load using new version; trying old version\n"
    + "modload: error initializing module: Invalid argument\n"

  func offsets(_ k: KernelProcess) throws -> [String] {
    try k.ok("modstat").split(separator: "\n").dropFirst().map {
      String($0.split(separator: " ", omittingEmptySubsequences: true)[2])
    }
  }

  @Test(
    "devices: automatic majors are the free ones in order, then ENFILE; explicit majors replace and are restored",
    arguments: [
      (false, ["11", "29", "30", "31", "32", "33", "34"], 87),
      (true, ["8", "9", "10", "11", "12", "13", "15", "18"], 20),
    ])
  func deviceSlots(block: Bool, free: [String], size: Int) throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let kind = block ? "b" : "c"
    func module(_ name: String, slot: Int = -1) throws -> String {
      try KernelFixtures.object(
        "devtests/slotdev.c", as: "\(kind)\(name)",
        defines: ["NAME=\"\(kind)\(name)\"", "SLOT=\(slot)", "BLOCK=\(block ? 1 : 0)"])
    }
    for i in free.indices { try k.ok("modload", "-e", "slotdev_lkmentry", try module("\(i)")) }
    #expect(try offsets(k) == free)
    let full = try k.run("modload", "-e", "slotdev_lkmentry", try module("more"))
    #expect(full.stderr == Self.exhausted && full.status == 14 && full.stdout.isEmpty)

    // A freed major is the next one given.
    try k.ok("modunload", "-n", "\(kind)2")
    #expect(
      try k.ok("modload", "-e", "slotdev_lkmentry", try module("again"))
        == "Module loaded as ID 2\n")
    #expect(try offsets(k) == free)

    let past = try k.run("modload", "-e", "slotdev_lkmentry", try module("past", slot: size))
    #expect(past.stderr == Self.outOfRange && past.status == 14)
    let negative = try k.run("modload", "-e", "slotdev_lkmentry", try module("negative", slot: -2))
    #expect(negative.stderr == Self.outOfRange && negative.status == 14)
    #expect(
      try k.ok("modload", "-e", "slotdev_lkmentry", try module("explicit", slot: size - 1))
        == "Module loaded as ID \(free.count)\n")
    #expect(try offsets(k).last == "\(size - 1)")
    #expect(try k.ok("modunload", "-n", "\(kind)explicit") == "")
  }

  @Test("an explicit major replaces a built-in driver (/dev/zero), which comes back on unload")
  func replaceBuiltIn() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    #expect(try k.ok("lkmctl", "read", "/dev/zero", "3") == "\0\0\0")
    let object = try KernelFixtures.object(
      "devtests/slotdev.c", as: "mm", defines: ["NAME=\"mm\"", "SLOT=2"])
    #expect(try k.ok("modload", "-e", "slotdev_lkmentry", object) == "Module loaded as ID 0\n")
    #expect(try offsets(k) == ["2"])
    #expect(
      try k.run("lkmctl", "read", "/dev/zero", "3").stderr
        == "lkmctl: /dev/zero: Operation not supported by device\n")
    #expect(try k.ok("modunload", "-n", "mm") == "")
    #expect(try k.ok("lkmctl", "read", "/dev/zero", "3") == "\0\0\0")
    #expect(try k.ok("lkmctl", "read", "/dev/null") == "")
  }

  @Test(
    "exec: 4 empty slots, then ENFILE; an explicit slot replaces its interpreter until unloaded")
  func execSlots() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    func module(_ name: String, slot: Int = -1) throws -> String {
      try KernelFixtures.object(
        "devtests/slotexec.c", as: "x\(name)", defines: ["NAME=\"x\(name)\"", "SLOT=\(slot)"])
    }
    #expect(
      try k.ok("modload", try KernelFixtures.object("rpn/rpn.c")) == "Module loaded as ID 0\n")
    for i in 1...3 { try k.ok("modload", "-e", "slotexec_lkmentry", try module("\(i)")) }
    #expect(try offsets(k) == ["0", "1", "2", "3"])
    let full = try k.run("modload", "-e", "slotexec_lkmentry", try module("more"))
    #expect(full.stderr == Self.exhausted && full.status == 14)
    let past = try k.run("modload", "-e", "slotexec_lkmentry", try module("past", slot: 4))
    #expect(past.stderr == Self.outOfRange && past.status == 14)

    let factorial = KernelFixtures.fixture("rpn/factorial.rpn")
    #expect(try k.ok("lkmctl", "exec", factorial, "3") == "factorial of 3 is 6\n")
    // Slot 0 taken over: rpn's entry is saved in the new module and back after its unload.
    #expect(
      try k.ok("modload", "-e", "slotexec_lkmentry", try module("over", slot: 0))
        == "Module loaded as ID 4\n")
    #expect(try offsets(k) == ["0", "1", "2", "3", "0"])
    #expect(
      try k.run("lkmctl", "exec", factorial).stderr == "lkmctl: \(factorial): Exec format error\n")
    #expect(try k.ok("modunload", "-n", "xover") == "")
    #expect(try k.ok("lkmctl", "exec", factorial, "4") == "factorial of 4 is 24\n")

    try k.ok("modunload", "-n", "x2")
    #expect(
      try k.ok("modload", "-e", "slotexec_lkmentry", try module("again"))
        == "Module loaded as ID 2\n")
    #expect(try offsets(k) == ["0", "1", "2", "3"])
  }

  @Test("file systems: one vfsconf per name (EEXIST), whatever the module is called")
  func fileSystemNames() throws {
    let k = try KernelProcess(["--watchdog", "10"])
    let kernfs = [
      try KernelFixtures.object("kernfs/kernfsmod.c"),
      try KernelFixtures.object("kernfs/kernfs_vnops.c"),
    ]
    let dupfs = try KernelFixtures.object("devtests/dupfs.c")
    #expect(
      try k.ok("modload", "-e", "kernfsmod", kernfs[0], kernfs[1]) == "Module loaded as ID 0\n")
    for arguments in [[dupfs], ["-e", "kernfsmod"] + kernfs] {
      let result = try TestSupport.run(
        TestSupport.product("modload"), arguments, environment: k.environment)
      #expect(
        result.stderr == "modload: error initializing module: File exists\n" && result.status == 14)
    }
    #expect(try k.ok("lkmctl", "mount", "-t") == "kernfs 11 0\n")
    #expect(try k.ok("modunload", "-n", "kernfs") == "")
    #expect(try k.ok("modload", dupfs) == "Module loaded as ID 0\n")
    #expect(try k.ok("lkmctl", "mount", "-t") == "kernfs 99 0\n")
    #expect(
      try k.ok("modstat").maskedAddresses == ModstatListing.header
        + "VFS       0  -1 ADDRESS SIZE INFO   2 dupfs\n")
  }
}
