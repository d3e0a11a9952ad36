import Foundation
import TestSupport
import Testing

/// Modules compiled with the stack protector or the undefined behaviour sanitizer: the kernel
/// has their runtimes (kern_ssp.c, subr_kubsan.c).
@Suite("instrumented modules")
struct InstrumentedModuleTests {
  /// Compiles Fixtures/lkm/instrumented/SOURCE with `command` (`gcc -fsanitize=undefined`),
  /// from its directory so that the file name the compiler records is the bare one.
  static func compile(_ source: String, _ command: String) throws -> String {
    let dir = try TestSupport.temporaryDirectory("instrumented")
    let output = "\(dir)/\(source.dropLast(2)).o"
    try TestSupport.shell(
      "\(command) -c -D_KERNEL -I '\(KernelFixtures.include)' \(source) -o '\(output)'",
      directory: TestSupport.fixture("lkm/instrumented"))
    return output
  }

  @Test(
    "-fstack-protector-all: a smashed stack is an oops naming the function; lkmd serves on",
    arguments: [
      "gcc", "gcc -mstack-protector-guard=global", "clang", "clang -mstack-protector-guard=global",
    ])
  func stackProtector(_ compiler: String) throws {
    let object = try Self.compile("smash.c", compiler + " -fstack-protector-all")
    let nm = try TestSupport.run("/usr/bin/nm", ["-u", object]).stdout
    #expect(nm.contains(" U __stack_chk_fail\n"))
    #expect(nm.contains("__stack_chk_guard") == compiler.contains("global"))
    try withKernel { k in
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      expectRun(try k.run("lkmctl", "syscall", "210", "0"), 0, stdout: "retval = 65\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "64"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n\(oopsHint("lkmctl"))")
      let dmesg = try k.dmesg()
      let oops =
        "oops: module 'smash' (id 0) during system call 210: panic: smashed stack (its stack protector's canary was overwritten), pc 0x"
      #expect(dmesg.contains(oops), "\(dmesg)")
      #expect(dmesg.contains(try Regex(#"\(smash_fill\+0x[0-9a-f]+\) in module 'smash'\n"#)))
      // The module stays loaded (marked faulted) and unloads.
      expectRun(try k.run("lkmctl", "syscall", "210", "-8"), 0, stdout: "retval = 65\n")
      expectRun(try k.run("modunload", "-n", "smash"), 0)
    }
  }

  @Test(
    "-fsanitize=undefined: each undefined operation is reported once with its location, and the module goes on",
    arguments: ["gcc", "clang"])
  func undefinedBehaviour(_ compiler: String) throws {
    let object = try Self.compile("ubsan.c", compiler + " -fsanitize=undefined")
    try withKernel { k in
      expectRun(try k.run("modload", object), 0, stdout: "Module loaded as ID 0\n")
      // The results are what the operations gave without the sanitizer.
      expectRun(
        try k.run("lkmctl", "syscall", "210", "1", "33"), 0, stdout: "retval = -2147483616\n")
      expectRun(
        try k.run("lkmctl", "syscall", "210", "1", "34"), 0, stdout: "retval = -2147483615\n")
      #expect(try k.run("lkmctl", "syscall", "210", "2", "33").status == 0)
      #expect(try k.run("lkmctl", "syscall", "210", "3", "5").status == 0)
      expectRun(
        try k.run("lkmctl", "syscall", "210", "4", "0"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n\(oopsHint("lkmctl"))")
      let dmesg = try k.dmesg()
      let lines = dmesg.split(separator: "\n").filter { $0.hasPrefix("kubsan: ") }.map(String.init)
      #expect(
        Array(lines.prefix(2)) == [
          "kubsan: ubsan.c:27:19: signed integer overflow: 33 + 2147483647 cannot be represented in type 'int'",
          "kubsan: ubsan.c:30:15: shift exponent 33 is too large for 32-bit type 'int'",
        ], "\(dmesg)")
      #expect(
        lines.contains {
          $0.wholeMatch(
            of: #/kubsan: ubsan.c:33:1[38]: index 5 is out of range for type 'int ?\[4\]'/#) != nil
        },
        "\(dmesg)")
      #expect(lines.last == "kubsan: ubsan.c:36:16: division by zero", "\(dmesg)")
      // Reported once per location: the second overflow at line 27 is not.
      #expect(lines.filter { $0.contains("ubsan.c:27:") }.count == 1)
      // Reaching __builtin_unreachable cannot go on: an oops.
      expectRun(
        try k.run("lkmctl", "syscall", "210", "9", "1"), 1,
        stderr: "lkmctl: syscall 210: Bad address\n\(oopsHint("lkmctl"))")
      #expect(
        try k.dmesg().contains(
          "oops: module 'ubsan' (id 0) during system call 210: panic: kubsan: ubsan.c:52:4: execution reached an unreachable program point, pc 0x"
        ))
      expectRun(try k.run("modunload", "-n", "ubsan"), 0)
    }
  }
}
