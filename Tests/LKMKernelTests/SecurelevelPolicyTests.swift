import LKMInterface
import LKMSupervisor
import Testing

/// The securelevel and read-only policy (OpenBSD's `lkmioctl` order): it is the supervisor's
/// (`Gatekeeper`), which forwards to the kernel only what passed it; the kernel keeps the
/// level (``KernelRuleTests``).
@Suite("securelevel and read-only sessions: what is refused, with which errno")
struct SecurelevelPolicyTests {
  static let load = Request.load(LoadRequest(inputs: [.init(name: "m.o", bytes: [])]))
  static let unload = Request.unload(id: 0, name: nil)

  /// Requests that only read: allowed at any securelevel and on read-only sessions.
  static let reads: [Request] = [
    .stat(id: 0, name: nil), .dmesg(timestamps: false), .dmesg(timestamps: true), .ksyms,
    .hello(write: false, nonblocking: false), .addr(0x1000), .crashes, .fileSystems,
  ]

  /// Requests of the kernel's services (system calls, exec): exempt from both rules.
  static let services: [Request] = [
    .syscall(number: 20, arguments: []), .exec(name: "p", image: [], arguments: []),
  ]

  @Test(
    "a request that only reads is allowed at any securelevel, read-only or not", arguments: reads)
  func readIsAllowed(_ request: Request) {
    for level: Int32 in [-1, 0, 1, 2] {
      for write in [false, true] {
        #expect(Gatekeeper.refusal(for: request, write: write, securelevel: level) == nil)
      }
    }
  }

  @Test(
    "a system call or an exec is allowed at any securelevel, read-only or not", arguments: services)
  func serviceIsAllowed(_ request: Request) {
    for level: Int32 in [-1, 0, 1, 2] {
      for write in [false, true] {
        #expect(Gatekeeper.refusal(for: request, write: write, securelevel: level) == nil)
      }
    }
  }

  @Test(
    "a load or an unload: EPERM above securelevel 0 (before EACCES), EACCES read-only, else allowed",
    arguments: [load, unload])
  func moduleInterface(_ request: Request) {
    #expect(Gatekeeper.refusal(for: request, write: true, securelevel: 1) == .EPERM)
    #expect(Gatekeeper.refusal(for: request, write: true, securelevel: 2) == .EPERM)
    #expect(Gatekeeper.refusal(for: request, write: false, securelevel: 1) == .EPERM)
    #expect(Gatekeeper.refusal(for: request, write: false, securelevel: 0) == .EACCES)
    #expect(Gatekeeper.refusal(for: request, write: false, securelevel: -1) == .EACCES)
    #expect(Gatekeeper.refusal(for: request, write: true, securelevel: 0) == nil)
    #expect(Gatekeeper.refusal(for: request, write: true, securelevel: -1) == nil)
  }

  @Test(
    "the refusals print OpenBSD's texts",
    arguments: [
      (KernelErrno.EPERM, "Operation not permitted"), (.EACCES, "Permission denied"),
    ])
  func texts(_ errno: KernelErrno, _ text: String) {
    #expect(errno.text == text)
  }
}
