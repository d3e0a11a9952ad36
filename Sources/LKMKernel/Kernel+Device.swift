internal import CLKM
public import LKMInterface
internal import ModuleLinker

// The module interface as OpenBSD's kernel had it: modload, modunload and modstat open /dev/lkm
// and make ioctls on it. lkmd's device carries their requests to the kernel process, which makes
// those system calls for the client's process through the system call table: open(2) of
// /dev/lkm, ioctl(2) (LMLOADOBJ, LMUNLOAD, LMSTAT) to the lkm driver (dev_lkm.c), close(2). The
// driver calls back here (the hooks) to link, unlink and stat. A module that replaces
// sysent[SYS_ioctl] (or open, or close) is in the way of every load; `modunload -f`, which the
// supervisor allows an exclusive session, goes around the table.

/// The ioctl commands of /dev/lkm, OpenBSD/amd64's encoding.
enum LKMIoctl {
  /// _IOWR('K', 13, struct lmc_loadobj): 16 bytes {u_long token; int status; int id}.
  static let loadObject: UInt64 = 0xc010_4b0d
  /// _IOWR('K', 10, struct lmc_unload): 24 bytes {int id; char *name; int status}.
  static let unload: UInt64 = 0xc018_4b0a
  /// _IOWR('K', 11, struct lmc_stat): 64 bytes.
  static let stat: UInt64 = 0xc040_4b0b
}

/// What the lkm driver's hooks came to, for the device request in progress (the supervisor
/// gives the kernel one device request at a time).
struct DeviceCall {
  var staged: [UInt64: LoadRequest] = [:]
  var nextToken: UInt64 = 0x4c4b_4d00
  var load: LoadOutcome?
  var unload: Result<String, Refusal>?
  var stat: Result<ModuleStatus, Refusal>?
}

/// The kernel the hooks call (one per process).
nonisolated(unsafe) private weak var hookedKernel: Kernel?

private let lkmLoadHook: @convention(c) (UInt, UnsafeMutablePointer<Int32>?) -> Int32 = {
  token, id in
  guard let kernel = unsafe hookedKernel else { return KernelErrno.ENODEV.rawValue }
  return unsafe kernel.loadHook(token: UInt64(token), id: id)
}

private let lkmUnloadHook: @convention(c) (Int32, UnsafePointer<CChar>?) -> Int32 = { id, name in
  guard let kernel = unsafe hookedKernel else { return KernelErrno.ENODEV.rawValue }
  return unsafe kernel.unloadHook(id: id, name: name.map { unsafe String(cString: $0) })
}

private let lkmStatHook:
  @convention(c) (Int32, UnsafePointer<CChar>?, UnsafeMutablePointer<Int32>?)
    -> Int32 = { id, name, resolved in
      guard let kernel = unsafe hookedKernel else { return KernelErrno.ENODEV.rawValue }
      return unsafe kernel.statHook(
        id: id, name: name.map { unsafe String(cString: $0) }, resolved: unsafe resolved)
    }

extension Kernel {
  /// Makes this kernel the one the lkm driver calls back (at boot).
  func installDeviceHooks() {
    unsafe hookedKernel = self
    unsafe clkm_set_lkm_hooks(lkmLoadHook, lkmUnloadHook, lkmStatHook)
  }

  // MARK: The hooks (called by the lkm driver, inside the ioctl)

  func loadHook(token: UInt64, id: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let request = device.staged.removeValue(forKey: token) else {
      return KernelErrno.EINVAL.rawValue
    }
    let outcome = load(request)
    device.load = outcome
    switch outcome {
    case .loaded(let result):
      unsafe id?.pointee = result.id
      return 0
    case .linkFailed: return KernelErrno.ENOEXEC.rawValue
    case .refused(let refusal): return refusal.errno.rawValue
    }
  }

  func unloadHook(id: Int32, name: String?) -> Int32 {
    let result = unload(id: id, name: name, force: false)
    device.unload = result
    if case .failure(let refusal) = result { return refusal.errno.rawValue }
    return 0
  }

  func statHook(id: Int32, name: String?, resolved: UnsafeMutablePointer<Int32>?) -> Int32 {
    let result = stat(id: id, name: name)
    device.stat = result
    switch result {
    case .success(let status):
      unsafe resolved?.pointee = status.id
      return 0
    case .failure(let refusal): return refusal.errno.rawValue
    }
  }

  // MARK: Device requests

  /// ioctl(2) of `command` on /dev/lkm for the current process, through the system call table:
  /// open, ioctl, close. `data` is the argument's bytes, returned as the driver left them. An
  /// errno of the path (a module in the table refusing or faulting) is returned, with a line
  /// saying which call it was.
  func lkmIoctl(_ command: UInt64, _ data: inout [UInt8], write: Bool) -> (KernelErrno, String)? {
    Bridge.setDeviceRequest(true)
    defer { Bridge.setDeviceRequest(false) }
    func call(_ number: Int32, _ arguments: [SyscallArgument]) -> Result<
      (Int64, [[UInt8]]), KernelErrno
    > {
      switch callSyscall(number, arguments) {
      case .failure(let error): return .failure(error)
      case .success(let (error, retval, buffers)):
        if let error { return .failure(error) }
        return .success((retval, buffers))
      }
    }
    let fd: Int64
    switch call(5, [.string("/dev/lkm"), .integer(write ? 2 : 0), .integer(0)]) {
    case .failure(let error):
      return (error, inTheWay(5, "open") ?? "open of /dev/lkm: \(error.text)")
    case .success(let (retval, _)): fd = retval
    }
    defer { _ = call(6, [.integer(fd)]) }
    switch call(54, [.integer(fd), .integer(Int64(bitPattern: command)), .both(data)]) {
    case .failure(let error):
      return (
        error,
        inTheWay(54, "ioctl")
          ?? "ioctl 0x\(String(command, radix: 16)) on /dev/lkm: \(error.text)"
      )
    case .success(let (_, buffers)):
      if let out = buffers.first, out.count == data.count { data = out }
      return nil
    }
  }

  /// What to do when a module's entry of sysent stands between modload and /dev/lkm: the
  /// line that names it and the way out, or nil when the slot is the kernel's.
  func inTheWay(_ slot: Int32, _ call: String) -> String? {
    let handler = Bridge.handler(ofSlot: slot)
    guard let owner = modules.values.first(where: { $0.linked.contains(handler) }) else {
      return nil
    }
    return "\(call)(2) (sysent[\(slot)]) is module '\(owner.name)''s and refused the request; "
      + "modunload -f -n \(owner.name) unloads it around the system call table"
  }

  /// modload's request: staged, then LMLOADOBJ.
  func deviceLoad(_ request: LoadRequest) -> Reply {
    device.nextToken &+= 1
    let token = device.nextToken
    device.staged[token] = request
    device.load = nil
    defer {
      device.staged[token] = nil
      device.load = nil
    }
    var data = [UInt8](repeating: 0, count: 16)
    unsafe withUnsafeBytes(of: token.littleEndian) { unsafe data.replaceSubrange(0..<8, with: $0) }
    let failure = lkmIoctl(LKMIoctl.loadObject, &data, write: true)
    if let outcome = device.load { return reply(for: outcome) }
    // The ioctl never reached the driver: something in the system call table is in the way.
    let (error, line) = failure ?? (.EIO, "LMLOADOBJ: the lkm driver did not load")
    return Reply(error: error, .refused(lines: [line], output: Bridge.takeUserOutput()))
  }

  /// modunload's request: LMUNLOAD (by id, or by name with id -1).
  func deviceUnload(id: Int32, name: String?) -> Reply {
    device.unload = nil
    defer { device.unload = nil }
    var data = [UInt8](repeating: 0, count: 24)
    unsafe withUnsafeBytes(of: id.littleEndian) { unsafe data.replaceSubrange(0..<4, with: $0) }
    let failure = Bridge.withCStringAddress(name) { address in
      unsafe withUnsafeBytes(of: address.littleEndian) {
        unsafe data.replaceSubrange(8..<16, with: $0)
      }
      return lkmIoctl(LKMIoctl.unload, &data, write: true)
    }
    if let result = device.unload {
      switch result {
      case .success(let output): return Reply(.message(lines: [], output: output))
      case .failure(let refusal):
        return .failure(refusal.errno, refusal.lines, output: refusal.output)
      }
    }
    let (error, line) = failure ?? (.EIO, "LMUNLOAD: the lkm driver did not unload")
    return .failure(error, [line], output: Bridge.takeUserOutput())
  }

  /// modstat's request: LMSTAT (by id, or by name with id -1); the reply has what the driver
  /// wrote and what only this side knows (users, files, faults).
  func deviceStat(id: Int32, name: String?) -> Reply {
    device.stat = nil
    defer { device.stat = nil }
    var data = [UInt8](repeating: 0, count: 64)
    unsafe withUnsafeBytes(of: id.littleEndian) { unsafe data.replaceSubrange(0..<4, with: $0) }
    let asked = Bridge.withCStringBuffer(64, holding: name) { address in
      unsafe withUnsafeBytes(of: address.littleEndian) {
        unsafe data.replaceSubrange(8..<16, with: $0)
      }
      return lkmIoctl(LKMIoctl.stat, &data, write: false)
    }
    guard let (failure, statName) = asked else { return .failure(.ENOMEM) }
    guard case .success(var status)? = device.stat else {
      if case .failure(let refusal)? = device.stat {
        return .failure(refusal.errno, refusal.lines, output: refusal.output)
      }
      // The ioctl never reached the driver (a module replaced ioctl(2) or open(2)): past the
      // highest id, say so as the driver would (EINVAL), so that a listing ends.
      if id >= 0, !modules.keys.contains(where: { $0 >= id }) { return .failure(.EINVAL) }
      let (error, line) = failure ?? (.EIO, "LMSTAT: the lkm driver did not answer")
      return .failure(error, [line])
    }
    if let (error, line) = failure { return .failure(error, [line]) }
    func word<T: FixedWidthInteger>(_ at: Int, _ type: T.Type) -> T {
      unsafe data.withUnsafeBytes { unsafe $0.loadUnaligned(fromByteOffset: at, as: T.self) }
    }
    status.id = word(0, Int32.self)
    status.name = statName
    status.offset = Int64(bitPattern: word(16, UInt64.self))
    status.type = word(24, Int32.self)
    status.area = word(32, UInt64.self)
    status.pages = word(40, UInt64.self)
    status.privateAddress = word(48, UInt64.self)
    status.version = word(56, Int32.self)
    return Reply(.status(status))
  }
}
