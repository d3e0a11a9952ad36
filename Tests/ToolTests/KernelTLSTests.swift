import Foundation
import Glibc
import TestSupport
import Testing

// Thread-local variables in kernel modules (issue 11): each kernel thread has its own copy,
// initialized from the module's .tdata and zeroed .tbss when the thread first runs the module's
// code, in threads that existed before the load (request threads, the callout thread) and those
// made afterwards. Module: Fixtures/lkm/tls/tlsvars.c, compiled for every TLS model.

@Suite("kernel: thread-local variables in modules, per kernel thread", .serialized)
struct KernelTLSTests {
  /// The compiler options of each TLS model, and the object's name.
  static let models: [(name: String, flags: [String])] = [
    ("tlsvars-le", []),
    ("tlsvars-ie", ["-fPIC", "-ftls-model=initial-exec"]),
    ("tlsvars-gd", ["-O2", "-fPIC"]),
    ("tlsvars-desc", ["-O2", "-fPIC", "-mtls-dialect=gnu2"]),
  ]

  static func load(_ k: KernelProcess, _ object: String) throws {
    expectRun(
      try k.run("modload", "-e", "tlsvars_lkmentry", object), 0,
      stdout: "Module loaded as ID 0\n")
  }

  /// The lines of the timeouts' report in dmesg, once there are `count`.
  static func timeoutLines(_ k: KernelProcess, count: Int) throws -> [String] {
    var lines: [String] = []
    _ = try eventually {
      lines = try k.dmesg().split(separator: "\n").map(String.init).filter {
        $0.hasPrefix("tlsvars: timeout: ")
      }
      return lines.count >= count
    }
    return lines
  }

  @Test(
    "two concurrent system calls each see their own variables; a timeout and the load see the initial values",
    arguments: models.map(\.name))
  func perThread(_ model: String) throws {
    let flags = Self.models.first { $0.name == model }!.flags
    let object = try KernelFixtures.object("tls/tlsvars.c", as: model, flags: flags)
    try withKernel { k in
      try Self.load(k, object)
      #expect(try k.dmesg().contains("tlsvars: load: counter 40, name ''\n"))
      // The sleeper names its thread 'first', the waker 'second': neither sees the other's.
      let sleeper = try k.start("lkmctl", ["syscall", "210", "1", "first"])
      var waker: ToolProcess.Result?
      #expect(
        try eventually(60) {
          let run = try k.run("lkmctl", "syscall", "210", "2", "second")
          waker = run
          return run.status == 0
        }, "\(String(describing: waker))\n\(k.console)")
      #expect(waker?.stdout == "second: counter 2\nretval = 0\n", "\(String(describing: waker))")
      expectRun(sleeper.wait(), 0, stdout: "first: counter 1\nretval = 0\n")
      // The callout thread existed before the load: it starts from the initial values, then
      // keeps its own.
      expectRun(try k.run("lkmctl", "syscall", "210", "3"), 0, stdout: "retval = 0\n")
      #expect(
        try Self.timeoutLines(k, count: 1) == ["tlsvars: timeout: counter 40, name '', calls 1"])
      expectRun(try k.run("lkmctl", "syscall", "210", "3"), 0, stdout: "retval = 0\n")
      #expect(
        try Self.timeoutLines(k, count: 2).last == "tlsvars: timeout: counter 41, name '', calls 2")
      // Unloaded and loaded again, the module starts from its initial values in every thread.
      expectRun(try k.run("modunload", "-n", "tlsvars"), 0)
      try Self.load(k, object)
      expectRun(try k.run("lkmctl", "syscall", "210", "3"), 0, stdout: "retval = 0\n")
      #expect(
        try Self.timeoutLines(k, count: 3).last == "tlsvars: timeout: counter 40, name '', calls 1")
    }
  }

  @Test(
    "a module whose thread-local variables do not fit the reservation: the load and -n name the sizes"
  )
  func tooLarge() throws {
    let object = try KernelFixtures.object(
      "tls/tlsvars.c", as: "tlsvars-big", defines: ["TLSVARS_BIG=70000"])
    let message =
      "modload: the module's thread-local variables (70048 bytes, aligned to 16) do not fit the "
      + "static TLS reservation (65536 bytes, aligned to 64, shared by every module)\n"
    try withKernel { k in
      for flags in [["-n"], []] {
        expectRun(
          try k.run("modload", flags + ["-e", "tlsvars_lkmentry", object]), 1, stderr: message)
      }
      // Nothing was kept: a module that fits loads.
      let fits = try KernelFixtures.object("tls/tlsvars.c", as: "tlsvars-le")
      try Self.load(k, fits)
    }
  }
}
