import Foundation
import LKMInterface
import LKMKernel
import TestSupport
import Testing

/// The one kernel of this test process (a process has one kernel), without a console or a
/// watchdog, as the sandbox's child runs it: the rules below are called on it directly.
let kernel: Kernel = {
  var options = Kernel.Options()
  options.console = false
  options.watchdogSeconds = 0
  options.hostname = "tests"
  return try! Kernel(options: options)
}()

/// Who the requests are from.
let credentials = Credentials(pid: getpid(), uid: 0, gid: 0, command: "tests")

/// A load request for fixture objects under Fixtures/lkm.
func loadRequest(_ sources: [String], entry: String? = nil) throws -> LoadRequest {
  let inputs = try sources.map { source in
    let path = try KernelFixtures.object(source)
    return LoadRequest.Input(
      name: URL(fileURLWithPath: path).lastPathComponent,
      bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
  }
  return LoadRequest(inputs: inputs, entry: entry)
}

/// The errno of a failed lookup (unload or stat), or nil if it succeeded.
func refusal<T>(_ result: Result<T, Refusal>) -> KernelErrno? {
  if case .failure(let refusal) = result { return refusal.errno }
  return nil
}

// The kernel's state is shared by the whole process: the suites run one test at a time.
@Suite("kernel rules, in process", .serialized)
struct KernelRuleTests {
  @Suite("securelevel: raised, never lowered", .serialized)
  struct SecurelevelTests {
    @Test("securelevel can be raised and kept, and lowering it is EPERM")
    func onlyRises() throws {
      let start = kernel.securelevel
      #expect(throws: KernelErrno.EPERM) { try kernel.setSecurelevel(start - 1) }
      #expect(kernel.securelevel == start)
      try kernel.setSecurelevel(start)
      try kernel.setSecurelevel(start + 1)
      #expect(kernel.securelevel == start + 1)
      let error = #expect(throws: KernelErrno.self) { try kernel.setSecurelevel(start) }
      #expect(error == .EPERM && error?.text == "Operation not permitted")
      #expect(kernel.securelevel == start + 1)
    }
  }

  @Suite("lookups by id and by name: OpenBSD's errors", .serialized)
  struct LookupTests {
    @Test(
      "with no module loaded, every unload and stat is EINVAL (the empty list's answer)",
      arguments: [(Int32(0), String?.none), (7, nil), (-1, "hello"), (-1, nil)])
    func emptyList(id: Int32, name: String?) {
      #expect(kernel.moduleIDs.isEmpty)
      #expect(refusal(kernel.stat(id: id, name: name)) == .EINVAL)
      #expect(refusal(kernel.unload(id: id, name: name)) == .EINVAL)
    }

    @Test(
      "a loaded module is found by id and name; a gap is ENOENT, past the end EINVAL, a long name ENAMETOOLONG"
    )
    func lookups() throws {
      let load = kernel.load(try loadRequest(["hello/hello.c"]))
      guard case .loaded(let result) = load else {
        Issue.record("hello.c did not load: \(load)")
        return
      }
      defer { _ = kernel.unload(id: result.id, name: nil) }
      #expect(result.id == 0 && kernel.moduleIDs == [0])
      #expect(try kernel.stat(id: 0, name: nil).get().name == "hello")
      #expect(try kernel.stat(id: -1, name: "hello").get().id == 0)
      #expect(refusal(kernel.stat(id: 1, name: nil)) == .EINVAL)
      #expect(refusal(kernel.stat(id: -1, name: "absent")) == .ENOENT)
      #expect(refusal(kernel.stat(id: -1, name: nil)) == .EINVAL)
      #expect(
        refusal(kernel.stat(id: -1, name: String(repeating: "n", count: 31))) == .ENAMETOOLONG)
      // Thirty bytes are a name (MAXLKMNAME - 1), looked for and not found.
      #expect(refusal(kernel.stat(id: -1, name: String(repeating: "n", count: 30))) == .ENOENT)
      #expect(refusal(kernel.unload(id: -1, name: "absent")) == .ENOENT)
      #expect(refusal(kernel.unload(id: 2, name: nil)) == .EINVAL)
    }

    @Test("ids are reused from the lowest free slot, and a gap in them is ENOENT")
    func slots() throws {
      let first = kernel.load(try loadRequest(["hello/hello.c"]))
      let second = kernel.load(
        try loadRequest(["miscmod/miscmod.c", "miscmod/misccall.c"], entry: "miscmod"))
      guard case .loaded(let a) = first, case .loaded(let b) = second else {
        Issue.record("the modules did not load: \(first), \(second)")
        return
      }
      #expect([a.id, b.id] == [0, 1])
      #expect(throws: Never.self) { try kernel.unload(id: 0, name: nil).get() }
      #expect(refusal(kernel.stat(id: 0, name: nil)) == .ENOENT)
      #expect(refusal(kernel.unload(id: 0, name: nil)) == .ENOENT)
      let third = kernel.load(try loadRequest(["hello/hello.c"]))
      guard case .loaded(let c) = third else {
        Issue.record("hello.c did not load again: \(third)")
        return
      }
      #expect(c.id == 0)
      for id in kernel.moduleIDs { _ = kernel.unload(id: id, name: nil) }
      #expect(kernel.moduleIDs.isEmpty)
    }
  }

  @Suite("the request dispatcher", .serialized)
  struct DispatcherTests {
    @Test(
      "requests that are the supervisor's are EINVAL in the kernel",
      arguments: [Request.hello(write: true, nonblocking: false), .crashes, .exit(pid: 1)])
    func supervisorsRequests(_ request: Request) {
      let reply = kernel.perform(request, credentials: credentials)
      #expect(reply == Reply(error: .EINVAL))
    }

    @Test("an address in no module and no kernel function is ENOENT")
    func unknownAddress() {
      #expect(kernel.perform(.addr(8), credentials: credentials) == Reply(error: .ENOENT))
    }

    @Test(
      "a check (modload -n) of bytes that are not an object is ENOEXEC, with the reader's message")
    func notAnObject() {
      var check = LoadRequest(inputs: [.init(name: "junk.o", bytes: Array("junk".utf8))])
      check.checkOnly = true
      let reply = kernel.perform(.load(check), credentials: credentials)
      #expect(reply.error == .ENOEXEC)
      #expect(reply.lines == ["junk.o: not an ELF file (bad magic)"])
    }

    @Test("dmesg returns the message buffer, with the kernel's lines")
    func dmesg() {
      kernel.log("kernel rule tests: a line\n")
      guard
        case .text(let text) = kernel.perform(.dmesg(timestamps: false), credentials: credentials)
          .body
      else {
        Issue.record("dmesg did not answer text")
        return
      }
      #expect(text.hasSuffix("kernel rule tests: a line\n"))
    }
  }
}
