import Foundation
import TestSupport
import Testing

// The example modules of Fixtures/lkm through the built tools against a real lkmd: each loads,
// works, and unloads with its slot restored; modstat has OpenBSD's format; modload's -o, -S,
// -n and -p; SIGTERM with modules loaded.

/// OpenBSD's texts, from /usr/share/lkm (reference §9).
enum OpenBSDTexts {
  static let syscallBanner =
    "\nSample Loaded system call\nCopyright (c) 1993\nTerrence R. Lambert\nAll rights reserved\n"
  static let syscallCall =
    "\nI am a loaded system call using the kernel printf!\nI will print this message each time I am called!\n"
  static let miscBanner =
    "\nSample Loaded miscellaneous module (system call)\nCopyright (c) 1993\nTerrence R. Lambert\nAll rights reserved\n"
  static let miscCall =
    "\nI am a loaded system call using the miscellaneous\nmodule loader interface and a kernel printf!\n"
    + "I will print this message each time I am called!\n"
  static let ddb = "DDB symbols added: N bytes\n"
}

@Suite("kernel: example modules end to end")
struct KernelEndToEndTests {
  @Test("newsyscall takes slot 210, prints on every call, refuses a second copy, unloads")
  func newsyscall() throws {
    let object = try KernelFixtures.newsyscall()
    try withKernel { k in
      expectRun(try k.run("lkmctl", "syscall", "210"), 1, stderr: notImplemented(210))
      expectRun(
        try k.run("modload", "-e", "newsyscall", object), 0, stdout: "Module loaded as ID 0\n")
      let listing = ModstatListing(try k.modstat())
      #expect(listing.masked == ModstatListing.header + modstatRow("SYSCALL", 0, 210, "newsyscall"))
      listing.expectConsistent()
      expectRun(try k.run("lkmctl", "syscall", "210"), 0, stdout: "retval = 0\n")
      expectRun(try k.run("lkmctl", "syscall", "210"), 0, stdout: "retval = 0\n")

      // The load hook runs before the duplicate check: the banner again, then EEXIST.
      expectRun(
        try k.run("modload", "-e", "newsyscall", object), 14,
        stderr: "modload: error initializing module: File exists\n")
      let dmesg = try k.dmesg()
      #expect(
        maskSymbolBytes(dmesg)
          == OpenBSDTexts.syscallBanner + OpenBSDTexts.ddb + OpenBSDTexts.syscallCall
          + OpenBSDTexts.syscallCall + OpenBSDTexts.syscallBanner)
      // The console is lkmd's stdout: the same text after the ready line.
      #expect(k.console(endingWith: dmesg) == "lkmd: ready on \(k.device)\n" + dmesg)

      expectRun(try k.run("modunload", "-n", "newsyscall"), 0)
      expectRun(try k.run("lkmctl", "syscall", "210"), 1, stderr: notImplemented(210))
      #expect(try k.modstat() == ModstatListing.header)
      // The id and the slot are free again.
      expectRun(
        try k.run("modload", "-e", "newsyscall", object), 0, stdout: "Module loaded as ID 0\n")
      #expect(
        ModstatListing(try k.modstat()).masked == ModstatListing.header
          + modstatRow("SYSCALL", 0, 210, "newsyscall"))
      expectRun(try k.run("modunload", "-i", "0"), 0)
    }
  }

  @Test("miscmod wires its own system call into the first free slot and restores it")
  func miscmod() throws {
    let objects = try KernelFixtures.miscmod()
    try withKernel { k in
      expectRun(
        try k.run("modload", ["-e", "miscmod"] + objects), 0, stdout: "Module loaded as ID 0\n")
      let listing = ModstatListing(try k.modstat())
      #expect(listing.masked == ModstatListing.header + modstatRow("MISC", 0, 210, "miscmod"))
      listing.expectConsistent()
      expectRun(try k.run("lkmctl", "syscall", "210"), 0, stdout: "retval = 0\n")
      // miscmod checks lkmexists itself, before its banner.
      expectRun(
        try k.run("modload", ["-e", "miscmod"] + objects), 14,
        stderr: "modload: error initializing module: File exists\n")
      #expect(
        maskSymbolBytes(try k.dmesg())
          == OpenBSDTexts.miscBanner + OpenBSDTexts.ddb + OpenBSDTexts.miscCall)
      expectRun(try k.run("modunload", "-n", "miscmod"), 0)
      expectRun(try k.run("lkmctl", "syscall", "210"), 1, stderr: notImplemented(210))
      #expect(try k.modstat() == ModstatListing.header)
    }
  }

  @Test("hello: default entry name, integer and string arguments, uprintf, log, kernel variables")
  func hello() throws {
    let object = try KernelFixtures.object("hello/hello.c")
    try withKernel { k in
      let before = Int(Date().timeIntervalSince1970)
      // No -e: there is no xxxinit, so modload takes hello_lkmentry (basename + _lkmentry).
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      let after = Int(Date().timeIntervalSince1970)
      #expect(
        ModstatListing(try k.modstat()).masked == ModstatListing.header
          + modstatRow("SYSCALL", 0, 210, "hello"))

      let call = try k.run("lkmctl", "syscall", "210", "3", "world")
      let greetings = (1...3).map { "Hello, world! (\($0) of 3, from pid \(call.pid))\n" }.joined()
      expectRun(call, 0, stdout: greetings + "retval = 5\n")
      // copyinstr into a 32-byte buffer: ENAMETOOLONG for a longer name.
      expectRun(
        try k.run("lkmctl", "syscall", "210", "1", String(repeating: "n", count: 40)), 1,
        stderr: "lkmctl: syscall 210: File name too long\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "99", "x"), 1,
        stderr: "lkmctl: syscall 210: Invalid argument\n")
      // A negative number is an integer argument too, not an option.
      expectRun(
        try k.run("lkmctl", "syscall", "210", "-5", "x"), 1,
        stderr: "lkmctl: syscall 210: Invalid argument\n")
      expectRun(try k.run("lkmctl", "syscall", "210", "0", "nobody"), 0, stdout: "retval = 6\n")

      let hostname = try k.run("lkmctl", "sysctl", "kern.hostname").stdout
      let version = try k.run("lkmctl", "sysctl", "kern.version").stdout
      #expect(hostname.hasPrefix("kern.hostname=") && version.hasPrefix("kern.version="))
      let host = hostname.dropFirst("kern.hostname=".count).dropLast()
      let kernel = version.dropFirst("kern.version=".count).dropLast()
      expectRun(try k.run("modunload", "-n", "hello"), 0)
      expectRun(try k.run("lkmctl", "syscall", "210", "1", "x"), 1, stderr: notImplemented(210))

      let dmesg = maskSymbolBytes(try k.dmesg())
      let loadedAt = try #require(dmesg.firstMatch(of: #/<info> hello: loaded at time ([0-9]+)\n/#))
      let time = try #require(Int(loadedAt.1))
      #expect(time >= before && time <= after, "time_second \(time) not in [\(before), \(after)]")
      // Everything malloc'd was freed: no leak report.
      #expect(
        dmesg
          == "hello: loading on \(host): hz 100, securelevel 0, greeting of 5 bytes\n"
          + "hello: kernel \(kernel)\n" + "<info> hello: loaded at time \(time)\n"
          + OpenBSDTexts.ddb
          + "hello: unloading after 2 calls\n")
    }
  }

  @Test("modstat: OpenBSD's header and rows, listing with gaps, single lookups")
  func modstatFormat() throws {
    let newsyscall = try KernelFixtures.newsyscall()
    let misc = try KernelFixtures.miscmod()
    let hello = try KernelFixtures.object("hello/hello.c")
    let getpid = try KernelFixtures.object("misbehaving/mygetpid.c")
    try withKernel { k in
      #expect(try k.modstat() == ModstatListing.header)
      expectRun(
        try k.run("modload", "-e", "newsyscall", newsyscall), 0, stdout: "Module loaded as ID 0\n")
      expectRun(
        try k.run("modload", ["-e", "miscmod"] + misc), 0, stdout: "Module loaded as ID 1\n")
      expectRun(try k.run("modload", hello), 0, stdout: "Module loaded as ID 2\n")
      expectRun(try k.run("modload", getpid), 0, stdout: "Module loaded as ID 3\n")

      let all = ModstatListing(try k.modstat())
      #expect(
        all.masked
          == ModstatListing.header + modstatRow("SYSCALL", 0, 210, "newsyscall")
          + modstatRow("MISC", 1, 211, "miscmod") + modstatRow("SYSCALL", 2, 212, "hello")
          + modstatRow("SYSCALL", 3, 20, "mygetpid"))
      all.expectConsistent()
      // Modules do not overlap.
      let images = all.rows.map { ($0.area, $0.area + $0.pages * 4096) }.sorted { $0.0 < $1.0 }
      for (a, b) in zip(images, images.dropFirst()) {
        #expect(a.1 <= b.0, "images overlap: \(images)")
      }

      // Single lookups print the header and the same row, by id (decimal, hex) or by name.
      let row1 = try k.modstat("-i", "1")
      #expect(row1 == ModstatListing.header + all.rowText(1))
      #expect(try k.modstat("-i", "0x1") == row1)
      #expect(try k.modstat("-n", "miscmod") == row1)
      #expect(try k.modstat("-n", "hello") == ModstatListing.header + all.rowText(2))

      // A gap in the ids is skipped; a lookup of it fails quietly with exit 3.
      expectRun(try k.run("modunload", "-i", "1"), 0)
      let gap = ModstatListing(try k.modstat())
      #expect(
        gap.masked
          == ModstatListing.header + modstatRow("SYSCALL", 0, 210, "newsyscall")
          + modstatRow("SYSCALL", 2, 212, "hello") + modstatRow("SYSCALL", 3, 20, "mygetpid"))
      expectRun(try k.run("modstat", "-i", "1"), 3, stdout: ModstatListing.header)
      expectRun(try k.run("modstat", "-i", "9"), 3, stdout: ModstatListing.header)
      expectRun(try k.run("modstat", "-n", "miscmod"), 3, stdout: ModstatListing.header)
      expectRun(
        try k.run("modstat", "-n", String(repeating: "m", count: 32)), 3,
        stdout: ModstatListing.header)
      expectRun(try k.run("modstat", "-i", "1x"), 1, stderr: "modstat: 1x: not a valid number\n")
      expectRun(
        try k.run("modstat", "extra"), 1,
        stderr: "usage: modstat [-v] [-i id] [-n name] [--device path]\n")

      // The lowest free id is reused; miscmod takes the first free slot, 211 again.
      expectRun(
        try k.run("modload", ["-e", "miscmod"] + misc), 0, stdout: "Module loaded as ID 1\n")
      #expect(ModstatListing(try k.modstat()).masked == all.masked)
      // --device overrides $LKM_DEVICE.
      let explicit = try ToolProcess(
        TestSupport.product("modstat"), ["--device", k.device],
        environment: ["LKM_DEVICE": k.directory + "/nothing/lkm"]
      ).wait()
      #expect(ModstatListing(explicit.stdout).masked == all.masked && explicit.status == 0)
    }
  }

  @Test("modload -o -S writes the linked image with the load addresses; gdb reads it")
  func outputFile() throws {
    let object = try KernelFixtures.newsyscall()
    try withKernel { k in
      let out = k.directory + "/newsyscall.out.o"
      expectRun(
        try k.run("modload", "-S", "-o", out, "-e", "newsyscall", object), 0,
        stdout: "Module loaded as ID 0\n")
      let row = try #require(ModstatListing(try k.modstat()).rows.first)
      let sections = try TestSupport.shell("readelf -SW '\(out)'")
      var allocated: [String: UInt64] = [:]
      for match in sections.matches(
        of:
          #/\] (?<name>\S+) +(?<type>[A-Z_]+) +(?<address>[0-9a-f]{16}) [0-9a-f]+ (?<size>[0-9a-f]+) [0-9a-f]+ +(?<flags>[A-Z]*) /#
      )
      where match.flags.contains("A") {
        let address = UInt64(match.address, radix: 16)!
        let size = UInt64(match.size, radix: 16)!
        allocated[String(match.name)] = address
        if size > 0 {
          #expect(
            address >= row.area && address + size <= row.area + row.pages * 4096,
            "\(match.name) at \(String(address, radix: 16)) is outside the image")
        }
      }
      #expect(allocated[".text"] == row.area, "sections: \(allocated)")
      // mycall's address: .text's sh_addr plus its offset in .text, as the kernel has it.
      let symbols = try TestSupport.shell("readelf -sW '\(out)'")
      let mycall = try #require(
        symbols.firstMatch(of: #/: ([0-9a-f]{16}) +[0-9]+ FUNC +GLOBAL +DEFAULT +[0-9]+ mycall\n/#))
      let address = row.area + UInt64(mycall.1, radix: 16)!
      let ksyms = try k.run("lkmctl", "ksyms")
      let hex = String(address, radix: 16)
      let padded = String(repeating: "0", count: 16 - hex.count) + hex
      #expect(ksyms.stdout.contains("\(padded) T mycall\t[newsyscall]\n"))
      if FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") {
        let gdb = try TestSupport.run(
          "/usr/bin/gdb",
          ["-nx", "-batch", "-ex", "add-symbol-file \(out)", "-ex", "info address mycall"])
        #expect(
          gdb.stdout.contains(
            "Symbol \"mycall\" is at 0x\(hex) in a file compiled without debugging."), "\(gdb)")
      }

      // -S without -o keeps the default output, the input minus ".o".
      let copy = k.directory + "/second.o"
      try FileManager.default.copyItem(atPath: object, toPath: copy)
      expectRun(
        try k.run("modload", "-S", "-e", "newsyscall", copy), 14,
        stderr: "modload: error initializing module: File exists\n")
      expectRun(try k.run("modunload", "-i", "0"), 0)
      expectRun(
        try k.run("modload", "-S", "-e", "newsyscall", copy), 0, stdout: "Module loaded as ID 0\n")
      #expect(FileManager.default.fileExists(atPath: k.directory + "/second"))
      expectRun(try k.run("modunload", "-i", "0"), 0)

      // -o without -S: the file is deleted at exit, as OpenBSD's cleanup does, for every input.
      let temporary = k.directory + "/gone"
      expectRun(
        try k.run("modload", ["-o", temporary, "-e", "miscmod"] + KernelFixtures.miscmod()), 0,
        stdout: "Module loaded as ID 0\n")
      let left = try FileManager.default.contentsOfDirectory(atPath: k.directory).filter {
        $0.hasPrefix("gone")
      }
      #expect(left.isEmpty, "left behind: \(left)")
    }
  }

  @Test("modload -n links without loading; -p runs postinstall with id, type and offset")
  func checkOnlyAndPostinstall() throws {
    let object = try KernelFixtures.newsyscall()
    try withKernel { k in
      expectRun(try k.run("modload", "-n", "-e", "newsyscall", object), 0)
      #expect(try k.modstat() == ModstatListing.header)
      #expect(try k.dmesg() == "")

      let log = k.directory + "/post.log"
      let script = k.directory + "/post.sh"
      try "#!/bin/sh\necho \"$# $*\" >> '\(log)'\n".write(
        toFile: script, atomically: true, encoding: .utf8)
      try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
      expectRun(
        try k.run("modload", ["-e", "miscmod"] + KernelFixtures.miscmod()), 0,
        stdout: "Module loaded as ID 0\n")
      expectRun(
        try k.run("modload", "-p", script, "-e", "newsyscall", object), 0,
        stdout: "Module loaded as ID 1\n")
      expectRun(try k.run("modunload", "-p", script, "-n", "newsyscall"), 0)
      #expect(try String(contentsOfFile: log, encoding: .utf8) == "3 1 0x0 211\n0 \n")
      expectRun(try k.run("modunload", "-i", "0"), 0)
    }
  }

  @Test("modules link against earlier modules' globals, unless those were loaded with -s")
  func moduleSymbols() throws {
    let provider = try KernelFixtures.object("linking/provider.c")
    let consumer = try KernelFixtures.object("linking/consumer.c")
    try withKernel { k in
      expectRun(try k.run("modload", "-s", provider), 0, stdout: "Module loaded as ID 0\n")
      let hidden = try k.run("modload", consumer)
      #expect(hidden.status == 1 && hidden.stdout.isEmpty, "\(hidden)")
      #expect(
        hidden.stderr.hasPrefix("modload: ") && hidden.stderr.contains("provider_twice"),
        "\(hidden)")
      expectRun(try k.run("modunload", "-n", "provider"), 0)
      expectRun(try k.run("modload", provider), 0, stdout: "Module loaded as ID 0\n")
      expectRun(try k.run("modload", consumer), 0, stdout: "Module loaded as ID 1\n")
      expectRun(try k.run("lkmctl", "syscall", "210", "21"), 0, stdout: "retval = 42\n")
      // The provider is in use: its unload is refused as every refusal is, EBUSY.
      let refused = try k.run("modunload", "-n", "provider")
      #expect(
        refused.status == 5 && refused.stderr.hasPrefix("modunload: LMUNLOAD: Device busy\n"),
        "\(refused)")
      let ksyms = try k.run("lkmctl", "ksyms").stdout
      #expect(ksyms.contains(#/[0-9a-f]{16} T provider_twice\t\[provider\]\n/#))
      expectRun(try k.run("modunload", "-n", "consumer"), 0)
      expectRun(try k.run("modunload", "-n", "provider"), 0)
      #expect(!(try k.run("lkmctl", "ksyms").stdout.contains("provider_twice")))
    }
  }

  @Test("SIGTERM unloads every module in reverse load order and exits 0")
  func shutdown() throws {
    let kernel = try KernelProcess()
    defer { kernel.stop() }
    expectRun(
      try kernel.run("modload", "-e", "newsyscall", KernelFixtures.newsyscall()), 0,
      stdout: "Module loaded as ID 0\n")
    expectRun(
      try kernel.run("modload", ["-e", "miscmod"] + KernelFixtures.miscmod()), 0,
      stdout: "Module loaded as ID 1\n")
    expectRun(
      try kernel.run("modload", KernelFixtures.object("misbehaving/leaky.c")), 0,
      stdout: "Module loaded as ID 2\n")
    expectRun(
      try kernel.run("modload", KernelFixtures.object("hello/hello.c")), 0,
      stdout: "Module loaded as ID 3\n")
    expectRun(
      try kernel.run("modload", KernelFixtures.object("misbehaving/busy.c")), 0,
      stdout: "Module loaded as ID 4\n")
    expectRun(try kernel.run("lkmctl", "syscall", "211"), 0, stdout: "retval = 0\n")
    let before = kernel.console(endingWith: OpenBSDTexts.miscCall)
    let end = kernel.stop()
    #expect(
      end.status == 0 && !end.signaled, "lkmd exited \(end.status)\nstderr: \(kernel.standardError)"
    )
    #expect(end.console.hasPrefix(before))
    #expect(
      String(end.console.dropFirst(before.count)).replacingOccurrences(
        of: "0x[0-9a-f]+", with: "0xADDRESS", options: .regularExpression)
        == "busy: still in use\n"
        + "lkm: module 'busy' (id 4) refused to unload at shutdown: Device busy\n"
        // Removed without unloading: the system call it installed is put back.
        + "lkm: sysent[213] pointed to 0xADDRESS, which no loaded module owns: restored\n"
        + "hello: unloading after 0 calls\n"
        + "lkm: module 'leaky' (id 2) leaked 128 bytes in 2 allocations, freed\n"
        + "lkm:   100 bytes from leaky_load+0xADDRESS\n"
        + "lkm:   28 bytes from leaky_load+0xADDRESS\n"
        + "lkmd: stopped\n")
    #expect(kernel.standardError == "")
  }
}

extension ModstatListing {
  /// The unmasked text of the row for `id`, as modstat printed it.
  func rowText(_ id: Int) -> String {
    guard let row = rows.first(where: { $0.id == id }) else { return "<no row \(id)>" }
    func hex(_ v: UInt64, _ width: Int) -> String {
      let s = String(v, radix: 16)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let masked = self.masked.split(separator: "\n").dropFirst()[
      rows.firstIndex { $0.id == id }! + 1]
    return
      masked
      .replacingOccurrences(
        of: "\(Self.mask) ssss \(Self.mask)",
        with: "\(hex(row.area, 16)) \(hex(row.pages, 4)) \(hex(row.info, 16))")
      + "\n"
  }
}
