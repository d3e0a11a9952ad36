import Foundation
import TestSupport
import Testing

/// The kernel's headers (Sources/CLKM/kernel/include) as a module author uses them: every
/// exported function declared, OpenBSD's ioctl encoding, nothing of the C library needed
/// (-nostdinc), kernel-only declarations under _KERNEL, a clear error for a C library header,
/// and C++.
@Suite("module headers")
struct ModuleHeaderTests {
  static let include = KernelFixtures.include
  static let everything = TestSupport.fixture("lkm/headers/everything.c")

  /// Compiles `source` with `compiler` and `flags` into a temporary object; the run and the
  /// object's path.
  static func compile(_ compiler: String, _ flags: [String], _ source: String) throws
    -> (TestSupport.Result, String)
  {
    let dir = try TestSupport.temporaryDirectory("headers")
    let output = dir + "/out.o"
    let result = try TestSupport.run(
      "/usr/bin/env", ["LC_ALL=C", compiler] + flags + ["-I", include, "-c", source, "-o", output])
    return (result, output)
  }

  static let compilers: [(String, [String])] = [
    ("gcc", []), ("gcc", ["-nostdinc"]), ("clang", []), ("clang", ["-nostdinc"]),
    ("g++", ["-x", "c++"]), ("g++", ["-x", "c++", "-nostdinc"]),
    ("clang++", ["-x", "c++"]), ("clang++", ["-x", "c++", "-nostdinc"]),
  ]

  @Test(
    "every header compiles warning-free, alone, as C and C++, with and without -nostdinc",
    arguments: 0..<compilers.count)
  func everyHeader(_ index: Int) throws {
    let (compiler, extra) = Self.compilers[index]
    var flags = extra + ["-Wall", "-Wextra", "-Werror", "-D_KERNEL"]
    if extra.contains("c++") { flags.append("-D_Static_assert=static_assert") }
    let (run, _) = try Self.compile(compiler, flags, Self.everything)
    #expect(run.status == 0, "\(compiler) \(flags): \(run)")
  }

  @Test("every symbol the kernel exports to modules is declared in a header")
  func everyExportDeclared() throws {
    // everything.c uses each declared function and variable once; its undefined symbols are
    // what the headers declare. The kernel's table (lkmctl ksyms -m kernel) must be among them,
    // except the compiler's runtime (__stack_chk_*, __ubsan_*), which modules never name.
    let (run, object) = try Self.compile("gcc", ["-D_KERNEL", "-fno-builtin"], Self.everything)
    try #require(run.status == 0, "\(run)")
    let nm = try TestSupport.run("/usr/bin/nm", ["-u", object])
    let used = Set(
      nm.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    )
    var exported: Set<String> = []
    try withKernel { kernel in
      let ksyms = try kernel.run("lkmctl", "ksyms", "-m", "kernel")
      #expect(ksyms.status == 0)
      for line in ksyms.stdout.split(separator: "\n") {
        if let name = line.split(separator: " ").last { exported.insert(String(name)) }
      }
    }
    #expect(exported.count > 50)
    let undeclared = exported.filter { !$0.hasPrefix("__") }.subtracting(used)
    #expect(undeclared.isEmpty, "exported but declared nowhere: \(undeclared.sorted())")
  }

  @Test("docs/kernel-api.md's export list is what scripts/kernel-api makes of the running kernel")
  func documentedKernelAPI() throws {
    let dir = try TestSupport.temporaryDirectory("kernel-api")
    let ksyms = dir + "/ksyms"
    try withKernel { kernel in
      let run = try kernel.run("lkmctl", "ksyms", "-m", "kernel")
      #expect(run.status == 0)
      try run.stdout.write(toFile: ksyms, atomically: true, encoding: .utf8)
    }
    let script = TestSupport.packageRoot + "/scripts/kernel-api"
    // From the running kernel's table, and from the sources' export lists: both are docs/kernel-api.md's.
    for arguments in [["--ksyms", ksyms, "--check"], ["--check"]] {
      let check = try TestSupport.run("/usr/bin/env", ["python3", script] + arguments)
      #expect(
        check.status == 0,
        "docs/kernel-api.md's list is out of date: run scripts/kernel-api --update\n\(check.stderr)"
      )
    }
    let printed = try TestSupport.run("/usr/bin/env", ["python3", script, "--ksyms", ksyms])
    #expect(printed.stdout.contains("| `<sys/pool.h>` | `pool_destroy`, `pool_get`, `pool_init`"))
    #expect(!printed.stdout.contains("declared in no header"), "\(printed.stdout)")
  }

  @Test("kernel-only declarations need _KERNEL; the module types and ioctls do not")
  func kernelOnly() throws {
    let dir = try TestSupport.temporaryDirectory("headers")
    let userland = dir + "/userland.c"
    try """
    #include <sys/types.h>
    #include <sys/ioctl.h>
    #include <sys/lkm.h>
    struct lmc_stat stat_request;
    unsigned long command = LMSTAT;
    MODTYPE type = LM_MISC;

    """.write(toFile: userland, atomically: true, encoding: .utf8)
    let (plain, _) = try Self.compile("gcc", ["-Wall", "-Werror"], userland)
    #expect(plain.status == 0, "\(plain)")
    let kernelCall = dir + "/kernelcall.c"
    try """
    #include <sys/types.h>
    #include <sys/malloc.h>
    #include <sys/lkm.h>
    void *f(void) { return malloc(1, M_TEMP, M_WAITOK); }
    int g(struct lkm_table *t) { return lkm_nofunc(t, 0); }

    """.write(toFile: kernelCall, atomically: true, encoding: .utf8)
    let (without, _) = try Self.compile(
      "gcc", ["-Werror=implicit-function-declaration"], kernelCall)
    #expect(without.status != 0)
    #expect(without.stderr.contains("implicit declaration of function 'malloc'"), "\(without)")
    #expect(without.stderr.contains("implicit declaration of function 'lkm_nofunc'"), "\(without)")
    let (with, _) = try Self.compile("gcc", ["-D_KERNEL", "-Wall", "-Werror"], kernelCall)
    #expect(with.status == 0, "\(with)")
  }

  @Test(
    "a C library header is one clear error, whichever comes first",
    arguments: [
      (
        "stdlib.h",
        "<stdlib.h> is a C library header; kernel code uses malloc(9) and free(9) in <sys/malloc.h>, the rest in <sys/systm.h>: see lkm(4)"
      ),
      (
        "stdio.h",
        "<stdio.h> is a C library header; kernel code uses printf, snprintf and uprintf in <sys/systm.h>: see lkm(4)"
      ),
      (
        "string.h",
        "<string.h> is a C library header; kernel code uses the string and memory functions in <sys/systm.h>: see lkm(4)"
      ),
      (
        "errno.h",
        "<errno.h> is a C library header; kernel code uses OpenBSD's errno values in <sys/errno.h>: see lkm(4)"
      ),
    ])
  func libraryHeader(_ header: String, _ message: String) throws {
    let dir = try TestSupport.temporaryDirectory("headers")
    for (name, text) in [
      ("first.c", "#include <\(header)>\n#include <sys/param.h>\n#include <sys/lkm.h>\n"),
      ("after.c", "#include <sys/param.h>\n#include <sys/lkm.h>\n#include <\(header)>\n"),
    ] {
      try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
      for compiler in ["gcc", "clang"] {
        let (run, _) = try Self.compile(compiler, ["-D_KERNEL"], dir + "/" + name)
        #expect(run.status == 1)
        // One error, and it is ours (no clash of the library's types with the kernel's).
        let errors = run.stderr.split(separator: "\n").filter { $0.contains("error:") }
        #expect(errors.count == 1, "\(compiler) \(name): \(run.stderr)")
        #expect(
          errors.first?.hasSuffix(message + "\"") == true, "\(compiler) \(name): \(run.stderr)")
      }
    }
  }

  @Test("a C++ module (constructors run, no exceptions or RTTI) loads, runs and unloads")
  func cxxModule() throws {
    let dir = try TestSupport.temporaryDirectory("headers")
    let object = dir + "/cxxmod.o"
    try TestSupport.shell(
      "g++ -c -Wall -Werror -fno-exceptions -fno-rtti -D_KERNEL -I '\(Self.include)' '\(TestSupport.fixture("lkm/cxx/cxxmod.cc"))' -o '\(object)'"
    )
    // The declaration keeps its C name, so that the kernel finds the module's name before it
    // runs (modload -n's "already loaded" check).
    let nm = try TestSupport.run("/usr/bin/nm", [object])
    #expect(nm.stdout.contains(" d _module\n"), "\(nm.stdout)")
    try withKernel { kernel in
      expectRun(
        try kernel.run("modload", object), 0,
        stdout: "cxxmod: constructed with 41, next 42, twice 42\nModule loaded as ID 0\n")
      #expect(try kernel.modstat().hasSuffix("   2 cxxmod\n"))
      let again = try kernel.run("modload", "-n", object)
      expectRun(again, 1, stderr: "modload: module 'cxxmod' is already loaded\n")
      let unload = try kernel.run("modunload", "-n", "cxxmod")
      #expect(unload.status == 0 && unload.stderr.isEmpty, "\(unload)")
    }
  }
}
