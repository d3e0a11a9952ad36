import Foundation
import Glibc
import TestSupport
import Testing

// The rest of the kernel(9) interface drivers use (issue 13): pool(9) with its hard limit, a
// sleeping pool_get woken by a pool_put, leaks and bad puts; copyoutstr and kcopy; arc4random;
// credentials and suser; the clocks; libkern. Modules: Fixtures/lkm/objcache (a pool-backed
// object cache) and Fixtures/lkm/kapi (one system call per interface).

@Suite("kernel: pool(9), copy(9), arc4random, credentials, clocks and libkern")
struct KernelAPITests {
  static func loadObjcache(_ k: KernelProcess) throws {
    expectRun(
      try k.run("modload", try KernelFixtures.object("objcache/objcache.c")), 0,
      stdout: "Module loaded as ID 0\n")
  }

  static func loadKapi(_ k: KernelProcess) throws {
    expectRun(
      try k.run("modload", try KernelFixtures.object("kapi/kapi.c")), 0,
      stdout: "Module loaded as ID 0\n")
  }

  static func take(_ k: KernelProcess, _ name: String, out: Int) throws {
    expectRun(
      try k.run("lkmctl", "syscall", "210", "1", name), 0,
      stdout: "took '\(name)' (\(out) of 3 out)\nretval = 0\n")
  }

  // MARK: pool(9)

  @Test(
    "pool: items up to the hard limit; past it PR_NOWAIT fails and logs the warning once a minute")
  func hardLimit() throws {
    try withKernel { k in
      try Self.loadObjcache(k)
      for (i, name) in ["apple", "pear", "plum"].enumerated() { try Self.take(k, name, out: i + 1) }
      for _ in 0..<2 {
        expectRun(
          try k.run("lkmctl", "syscall", "210", "1", "fig", "1"), 1,
          stderr: "lkmctl: syscall 210: Resource temporarily unavailable\n")
      }
      let warnings = try k.dmesg().components(separatedBy: "objcache: the object pool is full\n")
      #expect(warnings.count == 2, "the warning is rate-capped to once in 60 s")
      // What the kernel wrote into the module's struct pool.
      expectRun(
        try k.run("lkmctl", "syscall", "210", "3"), 0,
        stdout: "pool objpl: size 40, 102 per page, 3 out, 99 available, limit 3, gets 3, puts 0, "
          + "fails 2, pages 1\nretval = 3\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "2", "pear"), 0,
        stdout: "gave back 'pear' (2 of 3 out)\nretval = 0\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "2", "pear"), 1,
        stderr: "lkmctl: syscall 210: No such file or directory\n")
      try Self.take(k, "fig", out: 3)
      // A limit below what is out is EINVAL; at it, fine.
      expectRun(
        try k.run("lkmctl", "syscall", "210", "6", "2"), 1,
        stderr: "lkmctl: syscall 210: Invalid argument\n")
      expectRun(try k.run("lkmctl", "syscall", "210", "6", "3"), 0, stdout: "retval = 0\n")
      expectRun(try k.run("modunload", "-n", "objcache"), 0)
      #expect(
        !(try k.dmesg().contains("left pool")), "a module that destroyed its pools is not reported")
    }
  }

  @Test("pool: a PR_WAITOK get at the hard limit sleeps until another client's pool_put wakes it")
  func sleepingGetWokenByPut() throws {
    try withKernel { k in
      try Self.loadObjcache(k)
      for (i, name) in ["a", "b", "c"].enumerated() { try Self.take(k, name, out: i + 1) }
      let sleeper = try k.start("lkmctl", ["syscall", "210", "1", "d"])
      // The kernel serves other clients meanwhile, and the pool says a get waits (PR_WANTED).
      let stat =
        "pool objpl: size 40, 102 per page, 3 out, 99 available, limit 3, gets 3, puts 0, "
        + "fails 0, pages 1, a take waits\nretval = 3\n"
      #expect(try eventually { try k.run("lkmctl", "syscall", "210", "3").stdout == stat })
      #expect(sleeper.isRunning, "the take past the limit did not sleep")
      // The module is in use.
      #expect(try k.run("modunload", "-n", "objcache").status == 5)
      usleep(200_000)
      #expect(sleeper.isRunning, "the sleeper woke without a pool_put")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "2", "b"), 0,
        stdout: "gave back 'b' (2 of 3 out)\nretval = 0\n")
      let woken = sleeper.wait(timeout: 10)
      #expect(
        woken.outcome
          == Outcome(status: 0, stdout: "took 'd' (3 of 3 out)\nretval = 0\n", stderr: ""))
      expectRun(try k.run("modunload", "-n", "objcache"), 0)
    }
  }

  @Test("pool: pools a module leaves, with the items out, are reported at unload and freed")
  func leakReportAtUnload() throws {
    try withKernel { k in
      try Self.loadObjcache(k)
      try Self.take(k, "x", out: 1)
      try Self.take(k, "y", out: 2)
      expectRun(try k.run("lkmctl", "syscall", "210", "5"), 0, stdout: "retval = 0\n")
      expectRun(try k.run("modunload", "-n", "objcache"), 0)
      let dmesg = try k.dmesg()
      #expect(
        dmesg.contains(
          "lkm: module 'objcache' (id 0) left pool 'objpl' with 2 items out: destroyed\n"),
        "\(dmesg)")
      #expect(
        dmesg.contains(
          "lkm: module 'objcache' (id 0) left pool 'otherpl' with 0 items out: destroyed\n"),
        "\(dmesg)")
      // The kernel forgot them: the same struct pools initialise again.
      try Self.loadObjcache(k)
      try Self.take(k, "x", out: 1)
      expectRun(try k.run("modunload", "-n", "objcache"), 0)
    }
  }

  @Test("pool: a load that fails after pool_get has its pool reported and freed")
  func leakReportAtFailedLoad() throws {
    let object = try KernelFixtures.object(
      "objcache/objcache.c", as: "objcache_fail", defines: ["OBJCACHE_FAIL_LOAD"])
    try withKernel { k in
      expectRun(
        try k.run("modload", "-e", "objcache_lkmentry", object), 14,
        stderr: "modload: error initializing module: Input/output error\n")
      let dmesg = try k.dmesg()
      #expect(dmesg.contains("left pool 'objpl' with 1 item out: destroyed\n"), "\(dmesg)")
      #expect(dmesg.contains("left pool 'otherpl' with 0 items out: destroyed\n"), "\(dmesg)")
      try Self.loadObjcache(k)
    }
  }

  @Test(
    "pool: a bad pool_put or a call on what is no pool is an oops naming it; lkmd serves on",
    arguments: [
      (0, "pool_put: 0x[0-9a-f]+ is not an item of pool 'objpl'"),
      (1, "pool_put: 0x[0-9a-f]+ of pool 'objpl' put twice"),
      (2, "pool_put: 0x[0-9a-f]+ is inside a page of pool 'objpl' but not the start of an item"),
      (3, "pool_put: 0x[0-9a-f]+ is an item of pool 'otherpl', not of 'objpl'"),
      (4, "pool_get: 0x[0-9a-f]+ is not a pool \\(pool_init first\\)"),
    ])
  func badPut(_ kind: Int, _ pattern: String) throws {
    let panic = try Regex(pattern)
    try withKernel { k in
      try Self.loadObjcache(k)
      let kernel = try k.kernelPID()
      expectRun(try k.run("lkmctl", "syscall", "210", "5"), 0, stdout: "retval = 0\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "4", "\(kind)"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n" + oopsHint("lkmctl"))
      let dmesg = try k.dmesg()
      let oops = try #require(
        dmesg.firstMatch(
          of:
            #/oops: module 'objcache' \(id 0\) during system call 210: panic: (?<message>[^\n]*), pc 0x[0-9a-f]+ \((?<function>[a-z_]+)\+0x[0-9a-f]+\) in module 'objcache'\n(?:call trace:\n(?:  [^\n]*\n)*)?kernel tainted\n/#
        ),
        "\(dmesg)")
      #expect(oops.message.wholeMatch(of: panic) != nil, "\(oops.message)")
      #expect(oops.function == "bad")
      #expect(try k.kernelPID() == kernel, "contained without a reboot")
      try Self.take(k, "after", out: kind == 2 ? 2 : 1)
      expectRun(try k.run("modunload", "-n", "objcache"), 0)
      try Self.loadObjcache(k)
    }
  }

  @Test("pool: an item written after pool_put is found at the next pool_get (an oops)")
  func writeAfterPut() throws {
    try withKernel { k in
      try Self.loadObjcache(k)
      expectRun(try k.run("lkmctl", "syscall", "210", "5"), 0, stdout: "retval = 0\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "8"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n" + oopsHint("lkmctl"))
      let dmesg = try k.dmesg()
      #expect(
        dmesg.firstMatch(
          of:
            #/oops: module 'objcache' \(id 0\) during system call 210: panic: pool_get: 'objpl': item 0x[0-9a-f]+ was written after pool_put \(offset 0x0 = 0x58\), pc 0x[0-9a-f]+ \(stale\+0x[0-9a-f]+\) in module 'objcache'\n/#
        ) != nil,
        "\(dmesg)")
      expectRun(try k.run("modunload", "-n", "objcache"), 0)
      #expect(
        try k.dmesg().contains(
          "lkm: module 'objcache' (id 0) left pool 'objpl' with 1 item out: destroyed\n"))
    }
  }

  @Test(
    "pool: the kernel's state is its own: a module that overwrites its struct pool changes nothing")
  func scribbledStruct() throws {
    try withKernel { k in
      try Self.loadObjcache(k)
      try Self.take(k, "kept", out: 1)
      expectRun(
        try k.run("lkmctl", "syscall", "210", "7"), 0,
        stdout: "took 'scribbled' (2 of 3 out)\ngave back 'scribbled' (1 of 3 out)\nretval = 0\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "3"), 0,
        stdout: "pool objpl: size 40, 102 per page, 1 out, 101 available, limit 3, gets 2, puts 1, "
          + "fails 0, pages 1\nretval = 1\n")
      expectRun(try k.run("modunload", "-n", "objcache"), 0)
    }
  }

  // MARK: copy(9), libkern

  @Test("copyoutstr and kcopy: ENAMETOOLONG and EFAULT as copyinstr, never a fault")
  func copies() throws {
    try withKernel { k in
      try Self.loadKapi(k)
      expectRun(
        try k.run("lkmctl", "syscall", "210", "1"), 0,
        stdout: """
          copyoutstr fits: 0, done 6, 'hello'
          copyoutstr short: 63, done 3, 'hel'
          copyoutstr to a bad address: 14, done 0
          copyoutstr from a bad address: 14
          kcopy: 0, 'kernel'
          kcopy from a bad address: 14
          kcopy to a bad address: 14
          retval = 0

          """)
      #expect(!(try k.dmesg().contains("oops")))
    }
  }

  @Test("libkern: strncpy, strnlen, memchr, bcmp, ffs, strncasecmp, timingsafe_bcmp")
  func libkern() throws {
    try withKernel { k in
      try Self.loadKapi(k)
      expectRun(
        try k.run("lkmctl", "syscall", "210", "7"), 0,
        stdout: "strncpy pads: 1 1 1; truncates: 0123 1; strnlen 5 3; memchr 2 1; bcmp 1 1; "
          + "ffs 0 1 8 32\nstrncasecmp 1 1 1; timingsafe_bcmp 0 1 0\nretval = 0\n")
    }
  }

  // MARK: arc4random

  @Test("arc4random_uniform stays below its bound and covers it evenly; arc4random_buf fills")
  func random() throws {
    try withKernel { k in
      try Self.loadKapi(k)
      let six = try k.run("lkmctl", "syscall", "210", "2", "6", "6000")
      let m = try #require(
        six.stdout.firstMatch(of: #/uniform 6: min 0 max 5 counts (?<counts>[0-9 ]+)\n/#), "\(six)")
      let counts = m.counts.split(separator: " ").compactMap { Int($0) }
      #expect(counts.count == 6 && counts.reduce(0, +) == 6000)
      // Each face 1000 expected; below 700 is ten standard deviations away.
      #expect(counts.allSatisfy { $0 > 700 }, "\(counts)")
      #expect(
        six.stdout.hasSuffix(
          "buf: not zero, different; uniform(0) 0, uniform(1) 0\narc4random: changes\nretval = 0\n"),
        "\(six)")
      for (bound, draws) in [(1000, 20000), (3, 3000), (0x8000_0001, 2000)] {
        let run = try k.run("lkmctl", "syscall", "210", "2", "\(bound)", "\(draws)")
        let m = try #require(
          run.stdout.firstMatch(of: #/uniform [0-9]+: min (?<min>[0-9]+) max (?<max>[0-9]+)/#),
          "\(run)")
        let (low, high) = (Int(m.min)!, Int(m.max)!)
        #expect(high < bound && low <= high)
        // The top and the bottom tenth of the range are reached.
        #expect(
          high >= bound - max(1, bound / 10) && low <= bound / 10, "\(bound): \(low)...\(high)")
      }
    }
  }

  @Test("arc4random_buf into a bad address is an oops of the module, not of the kernel")
  func randomBadBuffer() throws {
    try withKernel { k in
      try Self.loadKapi(k)
      let kernel = try k.kernelPID()
      expectRun(
        try k.run("lkmctl", "syscall", "210", "3"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n" + oopsHint("lkmctl"))
      #expect(
        try k.dmesg().contains(
          "oops: module 'kapi' (id 0) during system call 210: SIGSEGV at address 0x10"))
      #expect(try k.kernelPID() == kernel)
      #expect(try k.run("lkmctl", "syscall", "210", "2", "2", "10").status == 0)
    }
  }

  // MARK: Credentials

  /// The credentials line kapi prints for a client with these ids.
  static func credentialLines(uid: UInt32, gid: UInt32, groups: [UInt32]) -> String {
    let suser = uid == 0 ? 0 : 1
    return "p_uid \(uid), cr_uid \(uid), cr_gid \(gid), cr_ref 1, groups"
      + groups.map { " \($0)" }.joined() + "\n"
      + "suser \(suser), suser_ucred \(suser)\n"
      + "crhold: cr_ref 2; crdup: cr_uid \(uid), cr_ref 1, a new ucred\n"
      + "crget: cr_ref 1, suser_ucred of a root ucred 0\nretval = 0\n"
  }

  @Test("credentials: p_ucred holds the client's user, group and groups; suser is 0 for root")
  func rootCredentials() throws {
    var groups = [gid_t](repeating: 0, count: 256)
    let n = unsafe getgroups(Int32(groups.count), &groups)
    try #require(n >= 0)
    try withKernel { k in
      try Self.loadKapi(k)
      expectRun(
        try k.run("lkmctl", "syscall", "210", "4"), 0,
        stdout: Self.credentialLines(
          uid: getuid(), gid: getgid(), groups: Array(groups.prefix(Int(n)))))
      // Each request has its own ucred: the reference the last call took went with it.
      expectRun(
        try k.run("lkmctl", "syscall", "210", "4"), 0,
        stdout: Self.credentialLines(
          uid: getuid(), gid: getgid(), groups: Array(groups.prefix(Int(n)))))
    }
  }

  @Test(
    "credentials: a client that is not root (lkmd and the tools run as nobody) gets EPERM from suser"
  )
  func unprivilegedCredentials() throws {
    try #require(getuid() == 0, "the test switches users: it runs as root")
    let nobody = try NobodyKernel(groups: [4242, 4343])
    defer { nobody.stop() }
    let object = nobody.directory + "/kapi.o"
    try FileManager.default.copyItem(
      atPath: try KernelFixtures.object("kapi/kapi.c"), toPath: object)
    unsafe chown(object, NobodyKernel.uid, NobodyKernel.uid)
    expectRun(try nobody.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
    expectRun(
      try nobody.run("lkmctl", "syscall", "210", "4"), 0,
      stdout: Self.credentialLines(
        uid: NobodyKernel.uid, gid: NobodyKernel.uid, groups: [4242, 4343]))
    expectRun(try nobody.run("modunload", "-n", "kapi"), 0)
  }

  @Test(
    "credentials: crfree of what crget did not return, or of a freed ucred, is an oops",
    arguments: [0, 1])
  func crfreeMisuse(_ kind: Int) throws {
    try withKernel { k in
      try Self.loadKapi(k)
      let kernel = try k.kernelPID()
      expectRun(
        try k.run("lkmctl", "syscall", "210", "5", "\(kind)"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n" + oopsHint("lkmctl"))
      let dmesg = try k.dmesg()
      #expect(
        dmesg.firstMatch(
          of:
            #/oops: module 'kapi' \(id 0\) during system call 210: panic: crfree: 0x[0-9a-f]+ is not a ucred \(crget returns them\), or it was freed, pc 0x[0-9a-f]+ \(crfree_misuse\+0x[0-9a-f]+\) in module 'kapi'\n/#
        ) != nil,
        "\(dmesg)")
      #expect(try k.kernelPID() == kernel)
      // The kernel's own ucreds are intact: the next request has one.
      #expect(try k.run("lkmctl", "syscall", "210", "4").status == 0)
    }
  }

  // MARK: Clocks

  /// Seconds as a Double from "S.FRACTION".
  static func seconds(_ text: Substring) -> Double { Double(text) ?? -1 }

  @Test(
    "clocks: uptime is monotonic and matches time_uptime; the get* forms trail the precise ones by a tick at most"
  )
  func clocks() throws {
    try withKernel { k in
      try Self.loadKapi(k)
      var previousUptime = 0.0
      for _ in 0..<3 {
        let before = Date().timeIntervalSince1970
        let run = try k.run("lkmctl", "syscall", "210", "6")
        let after = Date().timeIntervalSince1970
        #expect(run.status == 0, "\(run)")
        let m = try #require(
          run.stdout.wholeMatch(
            of:
              #/microtime (?<micro>[0-9.]+) getmicrotime (?<gmicro>[0-9.]+)\nnanotime (?<nano>[0-9.]+) getnanotime (?<gnano>[0-9.]+)\nmicrouptime (?<up>[0-9.]+) getmicrouptime (?<gup>[0-9.]+)\nnanouptime (?<nup>[0-9.]+) getnanouptime (?<gnup>[0-9.]+) later (?<later>[0-9.]+)\ntime_second (?<second>[0-9]+) time_uptime (?<uptime>[0-9]+)\nretval = 0\n/#
          ),
          "\(run)")
        let micro = Self.seconds(m.micro), gmicro = Self.seconds(m.gmicro)
        let nano = Self.seconds(m.nano), gnano = Self.seconds(m.gnano)
        let up = Self.seconds(m.up), gup = Self.seconds(m.gup)
        let nup = Self.seconds(m.nup), gnup = Self.seconds(m.gnup), later = Self.seconds(m.later)
        // The time of day is now.
        #expect(micro >= before - 0.01 && micro <= after + 0.01)
        #expect(nano >= micro && nano - micro < 0.05)
        // get* read first, and trail by less than a tick of the host (well under 50 ms).
        #expect(gmicro <= micro && micro - gmicro < 0.05, "\(gmicro) \(micro)")
        #expect(gnano <= nano && nano - gnano < 0.05, "\(gnano) \(nano)")
        #expect(gup <= up && up - gup < 0.05, "\(gup) \(up)")
        #expect(gnup <= nup && nup - gnup < 0.05, "\(gnup) \(nup)")
        // Uptime never goes back, within a call and across calls.
        #expect(up <= nup && nup <= later && up >= previousUptime)
        previousUptime = later
        #expect(abs(Double(m.second)! - micro) <= 1.5)
        #expect(Double(m.uptime)! <= later && later - Double(m.uptime)! < 1.5)
        usleep(300_000)
      }
    }
  }
}

/// An lkmd run as nobody (uid 65534) with the given supplementary groups, and the tools run
/// likewise (setpriv): a client that is not root.
final class NobodyKernel {
  static let uid: UInt32 = 65534
  let directory: String
  let device: String
  let groups: [UInt32]
  private var lkmd: ToolProcess?
  var process: Process { lkmd!.process }
  /// Where the tools run from: the build's products, or copies nobody can reach.
  let tools: String

  /// The build's products when nobody may run them (every directory above them lets others
  /// through), else copies of the tools in `directory` (a checkout inside a 0700 directory,
  /// such as a clone in a mktemp -d, keeps nobody out of .build).
  static func tools(in directory: String) throws -> String {
    let products = TestSupport.productsDirectory
    let probe = try TestSupport.run(
      "/usr/bin/setpriv",
      [
        "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/usr/bin/test",
        "-x", products + "/lkmd",
      ])
    if probe.status == 0 { return products }
    let bin = directory + "/bin"
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    unsafe chmod(bin, 0o755)
    for tool in ["lkmd", "lkm-kernel", "modload", "modunload", "modstat", "lkmctl"] {
      try FileManager.default.copyItem(atPath: products + "/" + tool, toPath: bin + "/" + tool)
      unsafe chmod(bin + "/" + tool, 0o755)
    }
    return bin
  }

  init(groups: [UInt32]) throws {
    self.groups = groups
    directory = try TestSupport.temporaryDirectory("lkmd-nobody")
    unsafe chown(directory, Self.uid, Self.uid)
    unsafe chmod(directory, 0o700)
    device = directory + "/lkm"
    tools = try Self.tools(in: directory)
    lkmd = try ToolProcess("/usr/bin/setpriv", setpriv + [tools + "/lkmd", "--device", device])
    let deadline = Date().addingTimeInterval(20)
    while !FileManager.default.fileExists(atPath: device) {
      guard process.isRunning, Date() < deadline else {
        stop()
        throw TestSupport.Failure("lkmd as nobody did not create its device")
      }
      usleep(10_000)
    }
  }

  var setpriv: [String] {
    [
      "--reuid=\(Self.uid)", "--regid=\(Self.uid)",
      "--groups=" + groups.map(String.init).joined(separator: ","),
    ]
  }

  /// Runs a tool as nobody, with this kernel's device.
  func run(_ tool: String, _ arguments: String...) throws -> ToolProcess.Result {
    var environment = ProcessInfo.processInfo.environment
    environment["LKM_DEVICE"] = device
    return try ToolProcess(
      "/usr/bin/setpriv", setpriv + [tools + "/" + tool] + arguments,
      environment: environment
    ).wait()
  }

  func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      let deadline = Date().addingTimeInterval(10)
      while process.isRunning && Date() < deadline { usleep(10_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    try? FileManager.default.removeItem(atPath: directory)
  }
}
