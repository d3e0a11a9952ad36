import Foundation
import TestSupport
import Testing

/// The tools' conventions (issue 12, item 7): help, usage lines, errors prefixed with the
/// tool's name, OpenBSD's order of modload's steps, uprintf reaching modload and modunload,
/// lkmrun's report of a crashing program, lkmctl's filters and addresses.
@Suite("tool conventions")
struct ToolConventionTests {
  @Test(
    "-h and --help print the usage and the options on stdout, exit 0",
    arguments: ["modload", "modunload", "modstat", "lkmctl", "lkmrun", "modfuzz", "lkmd"])
  func help(_ tool: String) throws {
    for flag in ["-h", "--help"] {
      let run = try TestSupport.run(TestSupport.product(tool), [flag])
      #expect(run.status == 0 && run.stderr.isEmpty, "\(tool) \(flag): \(run)")
      #expect(run.stdout.lowercased().contains("usage: \(tool)"), "\(tool) \(flag): \(run.stdout)")
    }
  }

  @Test("the OpenBSD tools' usage lines name every option, placeholders included")
  func usageLines() throws {
    let expected = [
      "modload":
        "usage: modload [-dnSsv] [-A kernel] [-e entry] [-o output_file] [-p postinstall]\n\t[--sandbox] [--device path] input_file ...\n",
      "modunload": "usage: modunload [-f] [-i id] [-n name] [-p postunload] [--device path]\n",
      "modstat": "usage: modstat [-v] [-i id] [-n name] [--device path]\n",
    ]
    for (tool, usage) in expected {
      let run = try TestSupport.run(TestSupport.product(tool), ["-x"])
      #expect(run.status == 1)
      #expect(run.stderr == "\(tool): unknown option -- x\n" + usage, "\(tool)")
      let long = try TestSupport.run(TestSupport.product(tool), ["--frobnicate"])
      #expect(long.stderr == "\(tool): unrecognized option '--frobnicate'\n" + usage, "\(tool)")
    }
  }

  @Test("lkmctl: no command is a usage error; its errors carry its name")
  func lkmctlErrors() throws {
    let none = try TestSupport.run(TestSupport.product("lkmctl"), [])
    #expect(none.status == 1 && none.stdout.isEmpty)
    #expect(none.stderr.contains("USAGE: lkmctl <subcommand>"))
    let bad = try TestSupport.run(TestSupport.product("lkmctl"), ["frobnicate"])
    #expect(bad.status != 0)
    #expect(bad.stderr.hasPrefix("lkmctl: "), "\(bad)")
    #expect(!bad.stderr.contains("Error:"))
  }

  @Test("lkmd: a usage error exits 64 with the usage, a failure to start exits 1; both 'lkmd: '")
  func lkmdErrors() throws {
    let directory = try TestSupport.temporaryDirectory("lkmd-errors")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    func lkmd(_ arguments: String...) throws -> TestSupport.Result {
      try TestSupport.run(
        TestSupport.product("lkmd"), ["--device", directory + "/lkm"] + arguments)
    }
    let unknown = try lkmd("--frobnicate")
    #expect(unknown.status == 64 && unknown.stdout.isEmpty, "\(unknown)")
    #expect(unknown.stderr.hasPrefix("lkmd: Unknown option '--frobnicate'\n"), "\(unknown)")
    #expect(unknown.stderr.contains("Usage: lkmd ") && !unknown.stderr.contains("Error:"))
    let zero = try lkmd("--object-limit", "0")
    #expect(zero.status == 64, "\(zero)")
    #expect(
      zero.stderr.hasPrefix(
        "lkmd: --object-limit must be a positive number of bytes\nUsage: lkmd "), "\(zero)")
    // lkmd's own failure: its message alone, no usage.
    let boot = try lkmd("--boot", directory + "/missing")
    #expect(boot.status == 1 && boot.stdout.isEmpty, "\(boot)")
    #expect(boot.stderr == "lkmd: --boot \(directory)/missing: No such file or directory\n")
  }

  @Test("lkmctl ksyms says when a filter matches nothing; lkmctl addr says what is not there")
  func lkmctlFilters() throws {
    try withKernel { k in
      expectRun(
        try k.run("lkmctl", "ksyms", "split"), 1,
        stderr:
          "lkmctl: ksyms: no symbol matches 'split' (a shell pattern: '*split*' matches names containing it)\n"
      )
      expectRun(
        try k.run("lkmctl", "ksyms", "-m", "nosuch"), 1,
        stderr: "lkmctl: ksyms: no symbols in module 'nosuch'\n")
      #expect(try k.run("lkmctl", "ksyms", "*split*").status == 1)
      let found = try k.run("lkmctl", "ksyms", "str*cpy")
      #expect(found.status == 0 && found.stdout.contains(" T strlcpy\n"))
      expectRun(
        try k.run("lkmctl", "addr", "0x1234"), 1,
        stderr: "lkmctl: 0x1234: not in the kernel or a loaded module\n")
    }
  }

  @Test("modload -o: an output path that cannot be written stops modload before the load")
  func badOutput() throws {
    let object = try KernelFixtures.object("hello/hello.c")
    try withKernel { k in
      expectRun(
        try k.run("modload", "-o", "/nonexistent/hello", object), 1,
        stderr:
          "modload: /nonexistent/hello: No such file or directory\nmodload: can't prelink `\(object)' creating `/nonexistent/hello'\n"
      )
      #expect(try k.modstat() == ModstatListing.header)
      // A good path: written, kept with -S, with section addresses set.
      let dir = try TestSupport.temporaryDirectory("output")
      expectRun(
        try k.run("modload", "-S", "-o", dir + "/hello", object), 0,
        stdout: "Module loaded as ID 0\n")
      #expect(FileManager.default.fileExists(atPath: dir + "/hello"))
    }
  }

  @Test("modload -v: 'reserving N bytes' before the load, whatever the load then says")
  func verboseReserving() throws {
    let object = try KernelFixtures.object("hello/hello.c")
    try withKernel { k in
      let first = try k.run("modload", "-v", object)
      #expect(first.status == 0 && first.stdout == "Module loaded as ID 0\n", "\(first)")
      let listing = ModstatListing(try k.modstat())
      let bytes = try #require(listing.rows.first).pages * 4096
      #expect(first.stderr == "modload: reserving \(bytes) bytes of memory\n")
      // A second copy is refused (EEXIST), after the reservation line.
      let second = try k.run("modload", "-v", object)
      #expect(second.status == 14)
      #expect(
        second.stderr
          == "modload: reserving \(bytes) bytes of memory\nmodload: error initializing module: File exists\n"
      )
    }
  }

  @Test("what load and unload hooks uprintf reaches modload's and modunload's stdout")
  func hookOutput() throws {
    let dir = try TestSupport.temporaryDirectory("hooks")
    let object = dir + "/cxxmod.o"
    try TestSupport.shell(
      "g++ -c -fno-exceptions -fno-rtti -D_KERNEL -I '\(KernelFixtures.include)' '\(TestSupport.fixture("lkm/cxx/cxxmod.cc"))' -o '\(object)'"
    )
    try withKernel { k in
      expectRun(
        try k.run("modload", object), 0,
        stdout: "cxxmod: constructed with 41, next 42, twice 42\nModule loaded as ID 0\n")
      expectRun(try k.run("modunload", "-n", "cxxmod"), 0, stdout: "cxxmod: 1 calls\n")
    }
  }

  @Test("modload --sandbox names a hook's error, not its number")
  func sandboxErrno() throws {
    let object = try KernelFixtures.object("misbehaving/eio.c")
    let run = try TestSupport.run(
      TestSupport.product("modload"), ["--sandbox", object],
      environment: ["LKM_DEVICE": "/nonexistent/lkm"])
    #expect(run.status == 1)
    #expect(
      run.stderr
        == "modload: sandbox: loaded: LKM_E_LOAD EIO (Input/output error)\nmodload: sandbox: not loading \(object)\n"
    )
  }

  /// Compiles a C program for lkmrun in a temporary directory.
  static func program(_ text: String) throws -> String {
    let dir = try TestSupport.temporaryDirectory("lkmrun-crash")
    try text.write(toFile: dir + "/prog.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c -O0 prog.c -o prog.o", directory: dir)
    return dir
  }

  @Test("lkmrun reports a program killed by a signal as a shell does, exit 128 + signal")
  func lkmrunCrash() throws {
    let dir = try Self.program(
      """
      #include <stdio.h>
      #include <stdlib.h>
      int main(int argc, char **argv) {
        printf("%d %s\\n", argc, argv[1]);
        if (argv[1][0] == 's') { volatile int *p = 0; *p = 1; }
        if (argv[1][0] == 'a') abort();
        return 7;
      }

      """)
    func run(_ arguments: [String]) throws -> TestSupport.Result {
      try TestSupport.run(TestSupport.product("lkmrun"), ["prog.o"] + arguments, directory: dir)
    }
    // The program's arguments follow the object, with or without --.
    let plain = try run(["hello", "world"])
    #expect(plain.status == 7 && plain.stdout == "3 hello\n" && plain.stderr.isEmpty, "\(plain)")
    #expect(try run(["--", "-x"]).stdout == "2 -x\n")
    let segv = try run(["segv"])
    #expect(segv.status == 128 + SIGSEGV && !segv.signaled, "\(segv)")
    #expect(segv.stdout == "2 segv\n")
    #expect(
      segv.stderr.wholeMatch(
        of: #/lkmrun: prog.o: Segmentation fault at 0x0 in main\+0x[0-9a-f]+( \([^)]*\))?\n/#)
        != nil, "\(segv.stderr)")
    let abort = try run(["abort"])
    #expect(abort.status == 128 + SIGABRT, "\(abort)")
    #expect(abort.stderr.hasPrefix("lkmrun: prog.o: Aborted in "), "\(abort.stderr)")
    #expect(!abort.stderr.contains("Thread 0") && !segv.stderr.contains("Thread 0"))
  }

  @Test("lkmrun's errors carry its name")
  func lkmrunErrors() throws {
    let none = try TestSupport.run(TestSupport.product("lkmrun"), [])
    #expect(none.status == 64)
    #expect(none.stderr.hasPrefix("lkmrun: an object or archive is needed\nusage: lkmrun "))
    let dir = try Self.program("int helper(void);\nint main(void) { return helper(); }\n")
    let undefined = try TestSupport.run(TestSupport.product("lkmrun"), ["prog.o"], directory: dir)
    #expect(undefined.status == 1)
    #expect(undefined.stderr.hasPrefix("lkmrun: undefined symbol 'helper'"), "\(undefined)")
  }
}
