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

/// The errno of a failed lookup (unload or stat), or nil if it succeeded.
func refusal<T>(_ result: Result<T, Refusal>) -> KernelErrno? {
  if case .failure(let refusal) = result { return refusal.errno }
  return nil
}

// The kernel's state is shared by the whole process: the suites run one test at a time. No
// module is loaded here. The suite runs in a test process of its own (scripts/test runs it
// second, with LKM_TEST_KERNEL_IN_PROCESS=1 and --filter LKMKernelTests): a kernel installs
// process-wide fault handlers, reserves two 1 GiB module regions and starts threads, which
// the other suites' checks of /proc/self/maps and of their own signals must not share. With it
// in the same process, three full runs ended in ModuleRegionTests' releaseReReserves finding
// its module's range missing from /proc/self/maps (a read of /proc/self/maps racing this
// kernel's mappings can miss lines; that test now reads until two reads agree) and trapping on a
// force unwrap (now gone). Lookups of loaded modules and the slot rules are tested through lkmd
// (KernelErrorPathTests, KernelEndToEndTests, DeviceSlotTests).
@Suite(
  "kernel rules, in process", .serialized,
  .enabled(if: ProcessInfo.processInfo.environment["LKM_TEST_KERNEL_IN_PROCESS"] == "1"))
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
