import Foundation
import TestSupport
import Testing

/// Messages that lead to the fix (issue 12, item 1): the ELF reader runs first and its message
/// is printed; entry-point errors list the names tried and what to do; a link's common
/// mistakes get one line each saying what to do.
@Suite("messages that lead to the fix")
struct ModuleMessageTests {
  /// Runs a tool in `directory` (so that messages name files as given), with no lkmd.
  static func run(_ tool: String, _ arguments: [String], in directory: String) throws
    -> TestSupport.Result
  {
    try TestSupport.run(
      TestSupport.product(tool), arguments,
      environment: ["LKM_DEVICE": directory + "/no-lkmd", "PATH": "/usr/bin:/bin"],
      directory: directory)
  }

  /// Inputs that are not x86-64 relocatable objects, each with the reader's message.
  static func badInputs(in dir: String) throws -> [(file: String, message: String)] {
    let source = dir + "/m.c"
    try
      "#include <sys/param.h>\n#include <sys/lkm.h>\nMOD_MISC(\"m\")\nint m_lkmentry(struct lkm_table *t, int c, int v) { DISPATCH(t, c, v, lkm_nofunc, lkm_nofunc, lkm_nofunc) }\n"
      .write(toFile: source, atomically: true, encoding: .utf8)
    let flags = "-c -D_KERNEL -nostdinc -I '\(KernelFixtures.include)' m.c"
    try TestSupport.shell("clang --target=aarch64-linux-gnu \(flags) -o arm.o", directory: dir)
    try TestSupport.shell("gcc -m32 \(flags) -o m32.o", directory: dir)
    try TestSupport.shell("gcc -flto \(flags) -o lto.o", directory: dir)
    try TestSupport.shell("clang -flto \(flags) -o clto.o", directory: dir)
    try TestSupport.shell(
      "gcc -shared -fPIC -nostdlib -D_KERNEL -nostdinc -I '\(KernelFixtures.include)' m.c -o shared.o",
      directory: dir)
    try TestSupport.shell(": > empty.o; echo hello > text.o; mkdir dir.o", directory: dir)
    return [
      ("arm.o", "arm.o: machine 183 (EM_AARCH64) is not x86-64 (EM_X86_64 = 62)"),
      ("m32.o", "m32.o: ELF class 1 (ELFCLASS32) is not ELFCLASS64"),
      (
        "lto.o",
        "lto.o: holds GCC's intermediate code only (gcc -flto), not machine code: compile modules without -flto, or with -ffat-lto-objects"
      ),
      (
        "clto.o",
        "clto.o: is LLVM bitcode (clang -flto), not machine code: compile modules without -flto"
      ),
      ("empty.o", "empty.o: file of 0 bytes is too short to be an ELF object"),
      ("text.o", "text.o: not an ELF file (bad magic)"),
      (
        "shared.o",
        "shared.o: is a shared object or PIE (ET_DYN), not a relocatable object (ET_REL)"
      ),
      ("dir.o", "dir.o: Is a directory"),
      ("missing.o", "missing.o: No such file or directory"),
    ]
  }

  @Test("modload and lkmctl modinfo run the ELF reader first: its message, exit 1, lkmd or not")
  func readerFirst() throws {
    let dir = try TestSupport.temporaryDirectory("bad-inputs")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for (file, message) in try Self.badInputs(in: dir) {
      // No lkmd runs: the reader's message comes before the device is opened.
      let load = try Self.run("modload", [file], in: dir)
      #expect(load.status == 1 && load.stdout.isEmpty, "\(file): \(load)")
      #expect(load.stderr == "modload: \(message)\n", "\(file)")
      let check = try Self.run("modload", ["-n", "-e", "m_lkmentry", file], in: dir)
      #expect(check.stderr == "modload: \(message)\n", "\(file)")
      let info = try Self.run("lkmctl", ["modinfo", file], in: dir)
      #expect(info.status == 1 && info.stderr == "lkmctl: \(message)\n", "\(file): \(info)")
    }
  }

  @Test("lkmrun explains LTO objects as modload does")
  func lkmrunLTO() throws {
    let dir = try TestSupport.temporaryDirectory("lto")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "int main(void) { return 0; }\n".write(
      toFile: dir + "/p.c", atomically: true, encoding: .utf8)
    try TestSupport.shell(
      "gcc -flto -c p.c -o lto.o && clang -flto -c p.c -o clto.o", directory: dir)
    let gcc = try Self.run("lkmrun", ["lto.o"], in: dir)
    #expect(gcc.status == 1)
    #expect(
      gcc.stderr
        == "lkmrun: lto.o: holds GCC's intermediate code only (gcc -flto), not machine code: compile without -flto, or with -ffat-lto-objects\n"
    )
    let clang = try Self.run("lkmrun", ["clto.o"], in: dir)
    #expect(
      clang.stderr
        == "lkmrun: clto.o: is LLVM bitcode (clang -flto), not machine code: compile without -flto\n"
    )
  }

  /// Compiles Fixtures/lkm/mistakes/SOURCE in a temporary directory (the object named after the
  /// source), with `command`.
  static func mistake(_ source: String, _ command: String = "gcc") throws -> (
    dir: String, object: String
  ) {
    let dir = try TestSupport.temporaryDirectory("mistakes")
    let object = String(source.prefix { $0 != "." }) + ".o"
    try TestSupport.shell(
      "\(command) -c -D_KERNEL -I '\(KernelFixtures.include)' '\(TestSupport.fixture("lkm/mistakes/" + source))' -o \(object)",
      directory: dir)
    return (dir, object)
  }

  /// Runs a tool against `kernel` from `directory`.
  static func run(
    _ kernel: KernelProcess, _ tool: String, _ arguments: [String], in directory: String
  )
    throws -> TestSupport.Result
  {
    try TestSupport.run(
      TestSupport.product(tool), arguments, environment: kernel.environment, directory: directory)
  }

  @Test("entry points: the names tried, and the function to name or the declaration to fix")
  func entryPoints() throws {
    let (dir, wrong) = try Self.mistake("wrongentry.c")
    let (cxxDir, cxx) = try Self.mistake("cxxentry.cc", "g++ -fno-exceptions")
    try withKernel { k in
      let plain = try Self.run(k, "modload", [wrong], in: dir)
      #expect(plain.status == 1)
      #expect(
        plain.stderr
          == "modload: entry point wrongentry_lkmentry not found in wrongentry.o\nmodload: tried xxxinit, then wrongentry_lkmentry; wrongentry.o defines wrongentry_entry: use -e wrongentry_entry\n"
      )
      // -e xxxinit is the default's name: modload.c falls back to BASE_lkmentry for it too.
      let named = try Self.run(k, "modload", ["-e", "xxxinit", wrong], in: dir)
      #expect(named.stderr == plain.stderr)
      // An option's value may begin with '-', as getopt(3) takes it.
      let dash = try Self.run(k, "modload", ["-e", "-x", wrong], in: dir)
      #expect(
        dash.stderr
          == "modload: entry point -x not found in wrongentry.o\nmodload: tried -x; wrongentry.o defines wrongentry_entry: use -e wrongentry_entry\n"
      )
      expectRun(
        try k.run("modload", "-e", "wrongentry_entry", dir + "/" + wrong), 0,
        stdout: "Module loaded as ID 0\n")
      let cxxRun = try Self.run(k, "modload", [cxx], in: cxxDir)
      #expect(
        cxxRun.stderr
          == "modload: entry point cxxentry_lkmentry not found in cxxentry.o\nmodload: tried xxxinit, then cxxentry_lkmentry; cxxentry.o defines cxxentry_lkmentry(lkm_table*, int, int) as a C++ function: declare it extern \"C\"\n"
      )
      // -e xxxinit falls back to hello_lkmentry, as modload.c's default does.
      expectRun(
        try k.run("modload", "-e", "xxxinit", KernelFixtures.object("hello/hello.c")), 0,
        stdout: "Module loaded as ID 1\n")
    }
  }

  @Test("C library functions: what kernel code uses instead, or --host-symbols")
  func libraryFunctions() throws {
    let (dir, object) = try Self.mistake("libcalls.c")
    try withKernel { k in
      for flags in [["-n"], []] {
        let run = try Self.run(k, "modload", flags + [object], in: dir)
        #expect(run.status == 1)
        #expect(
          maskOffsets(run.stderr) == """
            modload: undefined symbol 'fopen' referenced from libcalls.o:libcalls+0x? (.text+0x?); fopen is a C library function; a module has no files: data comes from the calling process through copyin(9) or uiomove(9); or start lkmd with --host-symbols
            modload: undefined symbol 'sprintf' referenced from libcalls.o:libcalls+0x? (.text+0x?); sprintf is a C library function; kernel code uses snprintf; or start lkmd with --host-symbols
            modload: undefined symbol 'atoi' referenced from libcalls.o:libcalls+0x? (.text+0x?); atoi is a C library function; kernel code uses its own digit loop (the kernel parses no numbers); or start lkmd with --host-symbols

            """, "\(run)")
      }
    }
  }

  @Test("C++ names: demangled, with extern \"C\" to declare")
  func cxxNames() throws {
    let (dir, object) = try Self.mistake("cxxcalls.cc", "g++ -fno-exceptions")
    try withKernel { k in
      let run = try Self.run(k, "modload", ["-n", object], in: dir)
      #expect(run.status == 1)
      #expect(
        maskOffsets(run.stderr) == """
          modload: undefined symbol '_Z6printfPKcz' referenced from cxxcalls.o:cxxcalls_lkmentry+0x? (.text+0x?); that is the C++ name of printf(char const*, ...): the kernel's functions are C functions; declare printf extern "C"
          modload: undefined symbol '_Z6helperi' referenced from cxxcalls.o:cxxcalls_lkmentry+0x? (.text+0x?); that is the C++ name of helper(int): the kernel's functions are C functions; declare helper extern "C"

          """, "\(run)")
    }
  }

  @Test("C++ that needs the C++ runtime: one line per need, with the option or definition")
  func cxxRuntime() throws {
    let (dir, object) = try Self.mistake("cxxruntime.cc", "g++ -fno-exceptions -fno-rtti")
    try withKernel { k in
      let run = try Self.run(k, "modload", ["-n", object], in: dir)
      #expect(run.status == 1)
      #expect(
        run.stderr == """
          modload: undefined symbols '_ZdlPvm', '_Znwm' come from C++ new and delete: the kernel has no C++ allocator: define operator new and operator delete in the module with malloc(9) and free(9)
          modload: undefined symbols '__cxa_guard_acquire', '__cxa_guard_release' come from C++ thread-safe statics: a function-local static with a constructor needs the C++ runtime's guards: compile C++ modules with -fno-threadsafe-statics

          """, "\(run)")
    }
  }

  @Test(
    "compiler options without a kernel runtime: one line per option, naming it",
    arguments: [
      (
        "gcc -pg",
        #"modload: undefined symbol 'mcount' comes from -pg: the kernel has no profiler to count calls: remove -pg \(perf\(1\) profiles modules without it\)\n"#
      ),
      ("gcc -fsanitize=address", Self.asan),
      ("clang -fsanitize=address", Self.asan),
    ])
  func instrumentation(_ compiler: String, _ pattern: String) throws {
    let message = try Regex(pattern)
    let (dir, object) = try Self.mistake("instrumented.c", compiler)
    try withKernel { k in
      for flags in [["-n"], []] {
        let run = try Self.run(k, "modload", flags + [object], in: dir)
        #expect(run.status == 1)
        #expect(run.stderr.wholeMatch(of: message) != nil, "\(run)")
      }
    }
  }

  static let asan =
    #"modload: undefined symbols '__asan_[a-z_0-9]+', '__asan_[a-z_0-9]+' and [0-9]+ more come from -fsanitize=address: the kernel has no AddressSanitizer runtime \(it would need shadow memory for all of the kernel\): remove -fsanitize=address; -fsanitize=undefined and -fstack-protector work\n"#

  @Test("lkmctl modinfo: name, type, entry, exports and needs, without a kernel")
  func modinfo() throws {
    let (dir, object) = try Self.mistake("libcalls.c")
    let run = try Self.run("lkmctl", ["modinfo", object], in: dir)
    #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
    #expect(
      run.stdout == """
        libcalls.o:
          module   libcalls (MISC)
          entry    libcalls_lkmentry
          exports  libcalls_lkmentry
          needs    atoi fopen lkm_nofunc lkmdispatch sprintf
          note     atoi: atoi is a C library function; kernel code uses its own digit loop (the kernel parses no numbers); or start lkmd with --host-symbols
          note     fopen: fopen is a C library function; a module has no files: data comes from the calling process through copyin(9) or uiomove(9); or start lkmd with --host-symbols
          note     sprintf: sprintf is a C library function; kernel code uses snprintf; or start lkmd with --host-symbols

        """)
    let (wrongDir, wrong) = try Self.mistake("wrongentry.c")
    let entry = try Self.run("lkmctl", ["modinfo", wrong], in: wrongDir)
    #expect(entry.status == 1)
    #expect(
      entry.stdout
        == "wrongentry.o:\n  module   wrongentry (MISC)\n  entry    none\n  exports  wrongentry_entry\n  needs    lkm_nofunc lkmdispatch\n"
    )
    #expect(
      entry.stderr
        == "lkmctl: entry point wrongentry_lkmentry not found in wrongentry.o\nlkmctl: tried xxxinit, then wrongentry_lkmentry; wrongentry.o defines wrongentry_entry: use -e wrongentry_entry\n"
    )
  }
}
