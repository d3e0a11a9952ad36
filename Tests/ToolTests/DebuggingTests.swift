import Foundation
import Glibc
import TestSupport
import Testing

/// The module author's debugging loop (issue 12, items 2-4) with the real programs: gdb
/// attached to the kernel process and running lkmrun, perf recording module code, oopses with
/// call traces and lines. Fixtures/debug/counter.c is the module; its line numbers are read from
/// the source, not written here.
@Suite("debugging: gdb, perf and oopses see module code", .serialized)
struct DebuggingTests {
  static let source = TestSupport.fixture("debug/counter.c")

  /// counter.c compiled as a module author does for debugging (`-g -O0`), or without -g.
  static func counter(debug: Bool = true) throws -> String {
    try KernelFixtures.object(
      "../debug/counter.c", as: debug ? "counter" : "nodebug/counter", flags: debug ? ["-g"] : [])
  }

  /// The line of counter.c that contains `text` (1-based).
  static func line(_ text: String) throws -> Int {
    let lines = try String(contentsOfFile: source, encoding: .utf8).split(
      separator: "\n", omittingEmptySubsequences: false)
    guard let i = lines.firstIndex(where: { $0.contains(text) }) else {
      throw TestSupport.Failure("no line with \(text) in counter.c")
    }
    return i + 1
  }

  /// A regular expression made at run time (with line numbers in it).
  static func pattern(_ text: String) -> Regex<AnyRegexOutput> { try! Regex(text) }

  static let gdbAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb")

  /// Runs gdb in batch mode with `commands`; `READY` in the commands is replaced by a shell
  /// command that creates a file, and the returned wait blocks until it exists.
  static func startGDB(_ arguments: [String], commands: [String], in directory: String) throws
    -> (process: ToolProcess, ready: String)
  {
    let ready = directory + "/gdb-ready"
    let script = directory + "/gdb-commands"
    let lines =
      ["set pagination off", "set confirm off", "handle SIGALRM nostop noprint pass"]
      + commands.map { $0 == "READY" ? "shell touch '\(ready)'" : $0 }
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: script, atomically: true, encoding: .utf8)
    let process = try unmasked("/usr/bin/gdb", ["-q", "-nx", "-batch", "-x", script] + arguments)
    return (process, ready)
  }

  /// Starts a program with no signal blocked (the threads tests run on block SIGALRM and
  /// SIGTERM, and a child inherits the mask: gdb and perf wait for their children with it).
  static func unmasked(_ executable: String, _ arguments: [String]) throws -> ToolProcess {
    try ToolProcess(executable, arguments, blocking: [])
  }

  static func waitFor(_ path: String, _ process: ToolProcess, seconds: Double = 180) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !FileManager.default.fileExists(atPath: path) {
      if !process.isRunning || Date() > deadline { return false }
      usleep(20_000)
    }
    return true
  }

  /// What gdb printed, without its complaints about the kernel's own Swift debug information.
  static func relevant(_ text: String) -> String {
    text.split(separator: "\n").filter {
      !$0.hasPrefix("During symbol reading") && !$0.hasPrefix("[New LWP")
        && !$0.hasPrefix("warning:")
    }.joined(separator: "\n")
  }

  @Test(
    "gdb attached to the kernel process: break sys_counter by name, bt through module frames with file:line, no add-symbol-file; the watchdog waits while gdb holds the call",
    .enabled(if: gdbAvailable))
  func gdbAttachedToKernel() throws {
    let object = try Self.counter()
    // A 1-second watchdog: gdb keeps the call stopped for longer, and it must not fire.
    try withKernel(["--watchdog", "1", "--hang-limit", "6"]) { k in
      #expect(try k.run("modload", object).stdout == "Module loaded as ID 0\n")
      let pid = try k.kernelPID()
      let (gdb, ready) = try Self.startGDB(
        ["-p", "\(pid)"],
        commands: [
          "break sys_counter", "break count_into", "READY", "continue", "bt", "continue", "bt",
          "shell sleep 8", "detach", "quit",
        ], in: k.directory)
      #expect(Self.waitFor(ready, gdb), "gdb did not get ready:\n\(gdb.wait(timeout: 1))")
      let call = try k.run("lkmctl", "syscall", "210", "5")
      let run = gdb.wait(timeout: 120)
      let out = Self.relevant(run.stdout + run.stderr)
      #expect(
        call.outcome == Outcome(status: 0, stdout: "retval = 5\n", stderr: ""),
        "\(call)\ngdb:\n\(out)")
      let entry = try Self.line("struct counter_args *uap = v;")
      let store = try Self.line("*where += n;")
      let addCall = try Self.line("count_into(&total, n);")
      let syscallCall = try Self.line("counter_add(n);")
      #expect(
        out.contains(#/Breakpoint 1 at 0x[0-9a-f]+: file .*counter\.c, line \d+\./#), "\(out)")
      #expect(out.contains("Breakpoint 1, sys_counter (p="), "\(out)")
      #expect(
        out.contains(
          Self.pattern(
            "#0  sys_counter \\(.*\\) at .*counter\\.c:\(entry)\\n#1  0x[0-9a-f]+ in clkm_isolated_call \\(\\)"
          )), "\(out)")
      // The second stop, two module frames deeper: every module frame with its line.
      #expect(
        out.contains(
          Self.pattern(
            "#0  count_into \\(where=0x[0-9a-f]+ <total>, n=5\\) at .*counter\\.c:\(store)\\n#1  0x[0-9a-f]+ in counter_add \\(n=5\\) at .*counter\\.c:\(addCall)\\n#2  0x[0-9a-f]+ in sys_counter \\(.*\\) at .*counter\\.c:\(syscallCall)\\n#3  0x[0-9a-f]+ in clkm_isolated_call \\(\\)\\n#4  0x[0-9a-f]+ in module_call"
          )), "\(out)")
      #expect(out.contains("detached"), "\(out)")
      // Stopped for more than 8 s with a 1 s watchdog and a 6 s hang limit: no watchdog oops,
      // no reboot.
      let dmesg = try k.dmesg()
      #expect(!dmesg.contains("watchdog"), "\(dmesg)")
      #expect(try k.run("lkmctl", "crashes").stdout == "")
      #expect(try k.run("lkmctl", "syscall", "210", "1").stdout == "retval = 6\n")
    }
  }

  @Test(
    "gdb killed while its breakpoint is in module text: the int3 it leaves is an oops, lkmd goes on",
    .enabled(if: gdbAvailable))
  func gdbLeavesABreakpoint() throws {
    let object = try Self.counter()
    try withKernel { k in
      #expect(try k.run("modload", object).stdout == "Module loaded as ID 0\n")
      let pid = try k.kernelPID()
      let (gdb, ready) = try Self.startGDB(
        ["-p", "\(pid)"], commands: ["break sys_counter", "READY", "continue"], in: k.directory)
      #expect(Self.waitFor(ready, gdb), "gdb did not get ready")
      usleep(300_000)
      // gdb dies with the breakpoint inserted: the kernel is detached, running, with an int3
      // at sys_counter.
      kill(gdb.process.processIdentifier, SIGKILL)
      _ = gdb.wait(timeout: 10)
      usleep(200_000)
      let call = try k.run("lkmctl", "syscall", "210", "5")
      #expect(call.status == 1 && call.stderr.contains("Bad address"), "\(call)")
      let dmesg = try k.dmesg()
      #expect(
        dmesg.contains(
          #/oops: module 'counter' \(id 0\) during system call 210: SIGTRAP .* in module 'counter'/#
        ), "\(dmesg)")
      #expect(try k.run("lkmctl", "crashes").stdout == "", "no reboot")
      // gdb's own breakpoints in the kernel's code (__jit_debug_register_code, which the
      // unload calls) are put back from the executable: no reboot either.
      #expect(try k.run("modunload", "-f", "-n", "counter").status == 0)
      #expect(try k.run("lkmctl", "crashes").stdout == "", "no reboot")
      #expect(try k.dmesg().contains("lkm: a debugger's breakpoint left at 0x"))
      #expect(try k.run("modload", object).stdout == "Module loaded as ID 0\n")
      #expect(try k.run("lkmctl", "syscall", "210", "5").stdout == "retval = 5\n")
    }
  }

  @Test(
    "gdb --args lkmrun prog.o: a pending breakpoint in the program stops there, bt with lines",
    .enabled(if: gdbAvailable))
  func gdbRunsLkmrun() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun-gdb")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let source = """
      #include <stdio.h>

      static int square(int x)
      {
      \treturn x * x;
      }

      int main(void)
      {
      \tint s = square(6);
      \tprintf("%d\\n", s);
      \treturn s == 36 ? 0 : 1;
      }

      """
    try source.write(toFile: dir + "/prog.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c -g -O0 prog.c -o prog.o", directory: dir)
    let (gdb, _) = try Self.startGDB(
      ["--args", TestSupport.product("lkmrun"), dir + "/prog.o"],
      commands: [
        "set breakpoint pending on", "break square", "run", "bt 2", "print x", "continue",
      ],
      in: dir)
    let run = gdb.wait(timeout: 120)
    let out = Self.relevant(run.stdout + run.stderr)
    #expect(out.contains("Breakpoint 1 (square) pending."), "\(out)")
    #expect(out.contains(#/Breakpoint 1, square \(x=6\) at prog\.c:5/#), "\(out)")
    #expect(
      out.contains(#/#0  square \(x=6\) at prog\.c:5\n#1  0x[0-9a-f]+ in main \(\) at prog\.c:10/#),
      "\(out)")
    #expect(out.contains("$1 = 6"), "\(out)")
    #expect(out.contains("exited normally"), "\(out)")
  }

  @Test(
    "an oops carries a call trace: module frames with function+offset and file:line; lkmctl addr gives the line"
  )
  func oopsCallTrace() throws {
    let object = try Self.counter()
    try withKernel { k in
      #expect(try k.run("modload", object).stdout == "Module loaded as ID 0\n")
      let call = try k.run("lkmctl", "syscall", "210", "-1")
      #expect(call.status == 1)
      let dmesg = try k.dmesg()
      let store = try Self.line("*where += n;")
      let oopsCall = try Self.line("count_into(NULL, n);")
      let addCall = try Self.line("counter_add(n);")
      #expect(
        dmesg.contains(
          Self.pattern(
            "pc 0x[0-9a-f]+ \\(count_into\\+0x[0-9a-f]+\\) in module 'counter'\\n(  .*\\n){5}call trace:\\n  0x(?<pc>[0-9a-f]+) count_into\\+0x[0-9a-f]+ \\(counter\\.c:\(store)\\) \\[counter\\]\\n  0x(?<ret>[0-9a-f]+) counter_add\\+0x[0-9a-f]+ \\(counter\\.c:\(oopsCall)\\) \\[counter\\]\\n  0x[0-9a-f]+ sys_counter\\+0x[0-9a-f]+ \\(counter\\.c:\(addCall)\\) \\[counter\\]\\nkernel tainted\\n"
          )),
        "\(dmesg)")
      let pc = try #require(dmesg.firstMatch(of: #/call trace:\n  0x(?<pc>[0-9a-f]+) /#)).output.pc
      let addr = try k.run("lkmctl", "addr", "0x" + pc)
      #expect(
        addr.stdout.hasPrefix("0x\(pc) is in module 'counter' (id 0): count_into+0x"), "\(addr)")
      #expect(addr.stdout.hasSuffix(" (counter.c:\(store))\n"), "\(addr)")
    }
  }

  @Test("without DWARF the call trace has function+offset only")
  func oopsCallTraceWithoutLines() throws {
    let object = try Self.counter(debug: false)
    try withKernel { k in
      let load = try k.run("modload", object)
      #expect(load.stdout == "Module loaded as ID 0\n", "\(load)")
      _ = try k.run("lkmctl", "syscall", "210", "-1")
      let dmesg = try k.dmesg()
      #expect(
        dmesg.contains(
          #/call trace:\n  0x[0-9a-f]+ count_into\+0x[0-9a-f]+ \[counter\]\n  0x[0-9a-f]+ counter_add\+0x[0-9a-f]+ \[counter\]\n  0x[0-9a-f]+ sys_counter\+0x[0-9a-f]+ \[counter\]\nkernel tainted\n/#
        ),
        "\(dmesg)")
    }
  }

  @Test("a panic in a kernel function the module called: the trace goes from the module's call up")
  func panicCallTrace() throws {
    let dir = try TestSupport.temporaryDirectory("panic-trace")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let source = """
      #include <sys/param.h>
      #include <sys/systm.h>
      #include <sys/lkm.h>
      MOD_MISC("deep")
      static void inner(int n) { panic("deep: %d", n); }
      static void outer(int n) { inner(n + 1); }
      static int deep_load(struct lkm_table *t, int cmd) { outer(1); return 0; }
      int deep_lkmentry(struct lkm_table *t, int cmd, int ver) {
      \tDISPATCH(t, cmd, ver, deep_load, lkm_nofunc, lkm_nofunc)
      }

      """
    try source.write(toFile: dir + "/deep.c", atomically: true, encoding: .utf8)
    try TestSupport.shell(
      "gcc -c -g -O0 -D_KERNEL -I '\(KernelFixtures.include)' deep.c -o deep.o", directory: dir)
    try withKernel { k in
      let load = try k.run("modload", dir + "/deep.o")
      #expect(load.status != 0)
      let dmesg = try k.dmesg()
      #expect(
        dmesg.contains(
          #/panic: deep: 2, pc 0x[0-9a-f]+ \(inner\+0x[0-9a-f]+\) in module 'deep'\ncall trace:\n  0x[0-9a-f]+ inner\+0x[0-9a-f]+ \(deep\.c:5\) \[deep\]\n  0x[0-9a-f]+ outer\+0x[0-9a-f]+ \(deep\.c:6\) \[deep\]\n  0x[0-9a-f]+ deep_load\+0x[0-9a-f]+ \(deep\.c:7\) \[deep\]\n/#
        ),
        "\(dmesg)")
    }
  }

  /// A copy of `object` with bytes of its DWARF sections overwritten (a fixed generator: the
  /// same objects every run).
  static func corrupted(_ object: String, variant: Int, into path: String) throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: object)))
    let sections = try TestSupport.run("/usr/bin/readelf", ["-SW", object]).stdout
    var ranges: [Range<Int>] = []
    for line in sections.split(separator: "\n")
    where line.contains(" .debug_") && !line.contains(".rela") {
      let fields = line.split(separator: "]").last!.split(separator: " ")
      guard fields.count > 4, let offset = Int(fields[3], radix: 16),
        let size = Int(fields[4], radix: 16)
      else {
        continue
      }
      ranges.append(offset..<(offset + size))
    }
    var state = UInt64(0x9E37_79B9_7F4A_7C15) &* UInt64(variant + 1)
    func next() -> UInt64 {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return state
    }
    let range = ranges[variant % ranges.count]
    let count = variant < 4 ? range.count : 1 + Int(next() % 32)
    for _ in 0..<count {
      let at = range.lowerBound + Int(next() % UInt64(max(range.count, 1)))
      bytes[at] = variant % 3 == 0 ? 0xff : UInt8(truncatingIfNeeded: next())
    }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  @Test(
    "malformed DWARF costs the line, never the kernel: oopses and lkmctl addr on corrupted debug sections"
  )
  func malformedDWARF() throws {
    let object = try Self.counter()
    let dir = try TestSupport.temporaryDirectory("bad-dwarf")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try withKernel { k in
      var loaded = 0
      for variant in 0..<16 {
        let path = "\(dir)/counter\(variant).o"
        try Self.corrupted(object, variant: variant, into: path)
        let load = try k.run("modload", "-e", "counter_lkmentry", path)
        guard load.status == 0 else { continue }  // the linker refused it: nothing of it ran
        loaded += 1
        let call = try k.run("lkmctl", "syscall", "210", "-1")
        #expect(
          call.status == 1 && call.stderr.contains("Bad address"), "variant \(variant): \(call)")
        let dmesg = try k.dmesg()
        #expect(dmesg.hasSuffix("kernel tainted\n"), "variant \(variant): \(dmesg.suffix(600))")
        let pc = try #require(dmesg.matches(of: #/call trace:\n  0x(?<pc>[0-9a-f]+) /#).last).output
          .pc
        let addr = try k.run("lkmctl", "addr", "0x" + pc)
        #expect(
          addr.status == 0 && addr.stdout.contains("count_into+0x"), "variant \(variant): \(addr)")
        #expect(try k.run("modunload", "-f", "-n", "counter").status == 0, "variant \(variant)")
      }
      #expect(loaded >= 12, "most corrupted objects still link: their DWARF is what is read")
      #expect(try k.run("lkmctl", "crashes").stdout == "", "the kernel was never rebooted")
    }
  }

  /// Whether perf can sample here; nil when it can, else why not. `perf stat -e instructions`
  /// needs hardware counters (a virtual machine may have none): the tests record the software
  /// clock, and ask perf whether that is allowed.
  static func perfUnavailable() -> String? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/perf") else {
      return "perf is not installed (Debian's linux-perf)"
    }
    guard let run = try? TestSupport.run("/usr/bin/perf", ["stat", "-e", "cpu-clock", "true"])
    else {
      return "perf does not run"
    }
    if run.status != 0 || run.stderr.contains("not supported") || run.stderr.contains("Permission")
    {
      return "perf events are not allowed here: \(run.stderr.split(separator: "\n").first ?? "")"
    }
    return nil
  }

  @Test(
    "lkmd --perf-map: /tmp/perf-PID.map lists the module's functions as lkmctl ksyms does, marked at unload; perf report names module functions"
  )
  func perfMap() throws {
    let object = try Self.counter()
    try withKernel(["--perf-map"]) { k in
      #expect(try k.run("modload", object).stdout == "Module loaded as ID 0\n")
      let pid = try k.kernelPID()
      let path = "/tmp/perf-\(pid).map"
      defer { unsafe unlink(path) }
      let map = try String(contentsOfFile: path, encoding: .utf8)
      var entries: [String: (UInt64, UInt64)] = [:]
      for line in map.split(separator: "\n") {
        let f = line.split(separator: " ")
        #expect(f.count == 4 && f[3] == "[counter]", "\(line)")
        entries[String(f[2])] = (UInt64(f[0], radix: 16) ?? 0, UInt64(f[1], radix: 16) ?? 0)
      }
      #expect(
        Set(entries.keys) == [
          "count_into", "counter_add", "spin", "sys_counter", "counter_lkmentry",
        ], "\(map)")
      // Every function the kernel's symbol table shows for the module is in the map, at its
      // address.
      let ksyms = try k.run("lkmctl", "ksyms", "-m", "counter").stdout
      var checked = 0
      for line in ksyms.split(separator: "\n") {
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard f.count >= 3, f[1] == "T" || f[1] == "t" else { continue }
        #expect(entries[String(f[2])]?.0 == UInt64(f[0], radix: 16), "\(line) in\n\(map)")
        checked += 1
      }
      #expect(checked >= 1, "ksyms: \(ksyms)")
      if let reason = Self.perfUnavailable() {
        print("perf record skipped: \(reason)")
      } else {
        let data = k.directory + "/perf.data"
        let record = try Self.unmasked(
          "/usr/bin/perf",
          [
            "record", "-e", "cpu-clock", "-F", "999", "-p", "\(pid)", "-o", data, "--", "sleep",
            "4",
          ])
        usleep(500_000)
        #expect(try k.run("lkmctl", "syscall", "210", "-2").status == 0)
        let recorded = record.wait(timeout: 30)
        #expect(recorded.status == 0, "\(recorded)")
        let report = try TestSupport.run(
          "/usr/bin/perf",
          ["report", "-i", data, "--stdio", "--sort", "sym", "--percent-limit", "5"])
        #expect(report.stdout.contains("spin [counter]"), "\(report)")
      }
      #expect(try k.run("modunload", "-n", "counter").status == 0)
      let after = try String(contentsOfFile: path, encoding: .utf8)
      #expect(
        after.split(separator: "\n").allSatisfy { $0.hasSuffix("[counter] (unloaded)") }
          && !after.isEmpty, "\(after)")
      // A module placed over the unloaded one's addresses replaces its lines.
      #expect(try k.run("modload", object).stdout == "Module loaded as ID 0\n")
      let reloaded = try String(contentsOfFile: path, encoding: .utf8)
      #expect(
        !reloaded.contains("(unloaded)") && reloaded.contains(" sys_counter [counter]\n"),
        "\(reloaded)")
    }
  }

  @Test("lkmrun --perf-map writes the program's functions")
  func lkmrunPerfMap() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun-perf")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "static int twice(int x) { return 2 * x; }\nint main(void) { return twice(0); }\n".write(
      toFile: dir + "/p.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c -O0 p.c -o p.o", directory: dir)
    let run = try ToolProcess(
      TestSupport.product("lkmrun"), ["--perf-map", dir + "/p.o"], environment: [:])
    let result = run.wait()
    #expect(result.status == 0, "\(result)")
    let path = "/tmp/perf-\(result.pid).map"
    defer { unsafe unlink(path) }
    let map = try String(contentsOfFile: path, encoding: .utf8)
    #expect(
      map.contains(#/^[0-9a-f]+ [0-9a-f]+ twice\n[0-9a-f]+ [0-9a-f]+ main\n$/#)
        || map.contains(#/^[0-9a-f]+ [0-9a-f]+ main\n[0-9a-f]+ [0-9a-f]+ twice\n$/#), "\(map)")
  }
}
