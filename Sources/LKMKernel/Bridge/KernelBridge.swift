// The only place the kernel's Swift code calls CLKM: kernel tables, guarded calls into module
// code, the message buffer. Every address passed here was computed by the linker for a module
// the kernel mapped.
internal import CLKM
internal import CSandbox
internal import Glibc
public import LKMInterface

/// What went wrong in module code during a guarded call.
public struct ModuleFault: Error, Sendable {
  public enum Kind: Sendable { case signal, panic, watchdog }
  public var kind: Kind
  public var signal: Int32
  /// `si_code`.
  public var code: Int32
  public var address: UInt64
  public var pc: UInt64
  /// rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags
  public var registers: [UInt64]
  public var message: String
  /// A signal module code raised on the kernel process (abort, kill, raise).
  public var raised: Bool
  /// SIGSYS from the kernel's filter: the system call module code made; else -1.
  public var syscall: Int32
  /// The call was made from module memory (the instruction-pointer filter), not by the C
  /// library on the module's behalf.
  public var syscallFromModule: Bool
  /// A fault in the guard page below the module stack: how deep the stack was, in bytes.
  public var stackDepth: UInt64
  /// The call trace, innermost first: the faulting pc, then return addresses (see
  /// `clkm_fault_t.trace`).
  public var trace: [UInt64] = []
}

enum Bridge {
  static func initialise(version: String, hostname: String, securelevel: Int32) -> Int32 {
    unsafe clkm_kernel_init(version, hostname, securelevel)
  }

  static var exports: [(name: String, address: UInt64, isFunction: Bool)] {
    var count = 0
    let table = unsafe clkm_export_table(&count)
    return (0..<count).map { i in
      let e = unsafe table[i]
      return unsafe (
        String(cString: e.name), UInt64(UInt(bitPattern: e.address)), e.is_function != 0
      )
    }
  }

  static var securelevel: Int32 {
    get { clkm_get_securelevel() }
    set { clkm_set_securelevel(newValue) }
  }
  static var hostname: String {
    get { unsafe String(cString: clkm_get_hostname()) }
    set { unsafe clkm_set_hostname(newValue) }
  }
  static var version: String { unsafe String(cString: clkm_get_version()) }
  static func setTime(_ seconds: Int64) { clkm_set_time(seconds) }

  /// The host's wall clock in seconds (`CLOCK_REALTIME`), for `time_second`.
  ///
  /// The corresponding C function is `clock_gettime(2)`.
  static func realtimeSeconds() -> Int64 {
    var ts = timespec()
    unsafe clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec)
  }

  /// Calls `body` with the address of a C copy of `text` (0 for nil), for a request that
  /// passes a string by address (LMUNLOAD's name); the copy is freed after.
  static func withCStringAddress<R>(_ text: String?, _ body: (UInt64) -> R) -> R {
    let copy = unsafe text.map { unsafe strdup($0) } ?? nil
    defer { unsafe free(copy) }
    return body(UInt64(UInt(bitPattern: copy)))
  }

  /// Calls `body` with the address of a zeroed C buffer of `count` bytes holding `text` (at
  /// most `count - 1` bytes of it), for a request that passes a name both ways (LMSTAT's);
  /// nil without memory.
  ///
  /// - Returns: `body`'s result and the NUL-terminated string the buffer holds after it.
  static func withCStringBuffer<R>(_ count: Int, holding text: String?, _ body: (UInt64) -> R)
    -> (R, String)?
  {
    guard let buffer = unsafe calloc(count, 1)?.assumingMemoryBound(to: CChar.self) else {
      return nil
    }
    defer { unsafe free(buffer) }
    if let text { _ = unsafe text.withCString { unsafe strncpy(buffer, $0, count - 1) } }
    let result = body(UInt64(UInt(bitPattern: buffer)))
    return unsafe (result, String(cString: buffer))
  }
  static func setWatchdog(_ seconds: UInt32) { clkm_set_watchdog(seconds) }
  static var watchdogSeconds: UInt32 { clkm_get_watchdog() }
  static func setConsole(_ enabled: Bool) { clkm_set_console(enabled ? 1 : 0) }
  static func log(_ text: String) { unsafe clkm_log_text(text) }
  static var systemCallCount: Int32 { clkm_nsysent() }
  static func isFreeSlot(_ n: Int32) -> Bool { clkm_sysent_is_free(n) != 0 }
  static func handler(ofSlot n: Int32) -> UInt64 { clkm_sysent_handler(n) }

  static func messageBuffer() -> String {
    let n = clkm_msgbuf_read(nil, 0)
    var bytes = [UInt8](repeating: 0, count: n)
    _ = unsafe bytes.withUnsafeMutableBytes { unsafe clkm_msgbuf_read($0.baseAddress, n) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// The message buffer with the time of each line (see ``MessageTimes``).
  static func timedMessageBuffer() -> (text: String, lineTimes: [Int64]) {
    let size = clkm_msgbuf_read(nil, 0)
    var bytes = [UInt8](repeating: 0, count: size)
    var from: UInt64 = 0
    let n = unsafe bytes.withUnsafeMutableBytes {
      unsafe clkm_msgbuf_read_from($0.baseAddress, size, &from)
    }
    bytes.removeSubrange(n...)
    let room = 8192
    var at = [UInt64](repeating: 0, count: room)
    var length = [UInt32](repeating: 0, count: room)
    var ns = [Int64](repeating: 0, count: room)
    let count = unsafe clkm_msgbuf_stamps(from, from + UInt64(n), &at, &length, &ns, room)
    let stamps = (0..<count).map {
      MessageTimes.Stamp(at: at[$0], length: length[$0], nanoseconds: ns[$0])
    }
    return (
      String(decoding: bytes, as: UTF8.self),
      MessageTimes.lineTimes(of: bytes, from: from, stamps: stamps)
    )
  }

  /// Counts an oops written by the calling thread.
  static func countOops() { clkm_count_oops() }
  /// The oopses the calling thread has written.
  static var threadOopses: UInt64 { clkm_thread_oopses() }

  static func takeUserOutput() -> String {
    // Sized to what is there: most requests print nothing, and zeroing the buffer's 64 KiB
    // each time was 16 pages to fault in for every sandboxed child.
    let pending = clkm_uprintf_pending()
    guard pending > 0 else { return "" }
    var bytes = [UInt8](repeating: 0, count: pending)
    let n = unsafe bytes.withUnsafeMutableBytes {
      unsafe clkm_uprintf_take($0.baseAddress, $0.count)
    }
    return String(decoding: bytes[0..<n], as: UTF8.self)
  }

  static func allocations(of id: Int32) -> (count: UInt64, bytes: UInt64) {
    var count: UInt64 = 0
    var bytes: UInt64 = 0
    unsafe clkm_module_allocations(id, &count, &bytes)
    return (count, bytes)
  }
  /// One allocation a module still owned when its memory was released.
  struct LeakedAllocation {
    var size: UInt64
    /// The return address of the `malloc` call, in the module.
    var caller: UInt64
    /// Whether its redzone no longer held the pattern.
    var overwritten: Bool
  }

  /// Frees everything module `id` still owns (`clkm_module_allocations_release`): how many
  /// allocations, their bytes, and the oldest few.
  static func releaseAllocations(of id: Int32) -> (
    count: UInt64, bytes: UInt64, oldest: [LeakedAllocation]
  ) {
    var report = clkm_leak_report_t()
    unsafe clkm_module_allocations_release(id, &report)
    var entries = report.oldest
    let oldest = unsafe withUnsafeBytes(of: &entries) { raw in
      unsafe raw.bindMemory(to: clkm_allocation_t.self).prefix(Int(report.listed)).map {
        LeakedAllocation(size: $0.size, caller: $0.caller, overwritten: $0.overwritten != 0)
      }
    }
    return (report.count, report.bytes, oldest)
  }
  static func registerModule(
    _ id: Int32, name: String, base: UInt64, size: UInt64, textEnd: UInt64
  ) {
    unsafe clkm_register_module(id, name, base, size, textEnd)
  }
  static func unregisterModule(_ id: Int32) { clkm_unregister_module(id) }
  static func renameModule(_ id: Int32, _ name: String) { unsafe clkm_rename_module(id, name) }
  static func markFaulted(_ id: Int32) { clkm_mark_faulted(id) }
  static func threadCount(of id: Int32) -> Int { Int(clkm_module_thread_count(id)) }
  static func activeCalls(of id: Int32) -> Int { Int(clkm_module_active_calls(id)) }
  static func faultedInC(_ id: Int32) -> Bool { clkm_module_faulted_in_c(id) != 0 }
  static func clearFaultMark(_ id: Int32) { clkm_clear_fault_mark(id) }
  static func startTimeouts() -> Int32 { clkm_timeouts_start() }
  static func forgetTimeouts(of id: Int32, start: UInt64, end: UInt64) -> Int {
    Int(clkm_timeout_forget(id, start, end))
  }
  static func lock() { clkm_kernel_lock() }
  /// The credentials of the requests this thread serves from now on (each gets a ucred).
  static func setCredentials(_ credentials: Credentials) {
    unsafe credentials.groups.withUnsafeBufferPointer {
      unsafe clkm_set_credentials(credentials.uid, credentials.gid, $0.baseAddress, $0.count)
    }
  }
  /// A pool a module left behind, destroyed with its items.
  struct AbandonedPool {
    var name: String
    var itemsOut: UInt32
  }
  /// Destroys the pools module `id` initialised or whose struct lies in [start, end).
  static func releasePools(of id: Int32, start: UInt64, end: UInt64) -> [AbandonedPool] {
    var reports = [clkm_pool_report_t](repeating: clkm_pool_report_t(), count: 64)
    let n = unsafe reports.withUnsafeMutableBufferPointer {
      unsafe clkm_module_pools_release(id, start, end, $0.baseAddress, $0.count)
    }
    var pools: [AbandonedPool] = []
    for i in 0..<min(n, reports.count) {
      var r = reports[i]
      let name = unsafe withUnsafeBytes(of: &r.name) { raw in
        unsafe String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      pools.append(AbandonedPool(name: name, itemsOut: r.items_out))
    }
    if n > reports.count {
      for _ in reports.count..<n { pools.append(AbandonedPool(name: "?", itemsOut: 0)) }
    }
    return pools
  }
  static func threadInit() { clkm_thread_init() }
  static func unlock() { clkm_kernel_unlock() }
  static func beginRequest() -> UInt64 { clkm_request_begin() }
  static func endRequest() { clkm_request_end() }
  static func cancelRequest(_ token: UInt64) { clkm_request_cancel(token) }
  static func setActivity(_ what: String) { unsafe clkm_set_activity(what) }

  /// The repairs of a table audit, one line each.
  static func auditTables(sysentOnly: Bool = false) -> [String] {
    var bytes = [UInt8](repeating: 0, count: 8192)
    let n = unsafe bytes.withUnsafeMutableBytes {
      unsafe sysentOnly
        ? clkm_audit_sysent_only($0.baseAddress, $0.count)
        : clkm_audit_tables($0.baseAddress, $0.count)
    }
    guard n > 0 else { return [] }
    return String(decoding: bytes[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
  }

  /// The address of the C library's `stdout` (its data: where PC-relative references of
  /// default-PIE modules must reach with host symbols).
  static var hostDataAddress: UInt64? {
    guard let p = unsafe dlsym(UnsafeMutableRawPointer(bitPattern: 0), "stdout") else { return nil }
    return UInt64(UInt(bitPattern: p))
  }

  /// The name of an x86-64 system call (`exit_group`).
  static func syscallName(_ number: Int32) -> String? {
    var buffer = [CChar](repeating: 0, count: 64)
    guard unsafe lkmsb_syscall_name(number, &buffer, buffer.count) != 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// `libc.so.6: memcpy+0x1f` for an address outside modules.
  static func describeHostAddress(_ address: UInt64) -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    guard unsafe clkm_describe_address(address, &buffer, buffer.count) != 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The host functions modules get the kernel's version of (--host-symbols).
  static var hostInterpositions: [String: UInt64] {
    var count = 0
    let table = unsafe clkm_host_interpositions(&count)
    var result: [String: UInt64] = [:]
    for i in 0..<count {
      unsafe result[String(cString: table[i].name)] = unsafe UInt64(
        UInt(bitPattern: table[i].address))
    }
    return result
  }

  /// Uses memory shared with the supervisor for the message buffer and the status.
  static func attachShared(_ area: UnsafeMutableRawPointer) { unsafe clkm_attach_shared(area) }
  static var sharedAreaSize: Int { clkm_shared_size() }
  static func setCurrentModule(_ id: Int32) { clkm_set_current_module(id) }
  static func setPhaseWord(_ word: UnsafeMutablePointer<Int32>?) {
    unsafe clkm_set_phase_word(word)
  }

  private static func fault(from f: clkm_fault_t) -> ModuleFault {
    var message = f.message
    let text = unsafe withUnsafeBytes(of: &message) { raw in
      unsafe String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    var registers = f.registers
    let list = unsafe withUnsafeBytes(of: &registers) {
      unsafe Array($0.bindMemory(to: UInt64.self))
    }
    let kind: ModuleFault.Kind = f.kind == 2 ? .panic : f.kind == 3 ? .watchdog : .signal
    var trace = f.trace
    let depth = Int(max(0, min(f.trace_depth, CLKM_TRACE_MAX)))
    let frames = unsafe withUnsafeBytes(of: &trace) {
      unsafe Array($0.bindMemory(to: UInt64.self).prefix(depth))
    }
    return ModuleFault(
      kind: kind, signal: f.signo, code: f.code, address: f.address, pc: f.pc, registers: list,
      message: text, raised: f.raised != 0, syscall: f.syscall,
      syscallFromModule: f.from_module != 0, stackDepth: f.stack_depth, trace: frames)
  }
}

/// One module record (`struct lkm_table`) in the kernel's list.
@safe final class TableRecord {
  let pointer: OpaquePointer

  init?(id: Int32, area: UInt64, size: UInt64, entry: UInt64, version: Int32) {
    guard let p = unsafe clkm_table_new(id, area, size, entry, version) else { return nil }
    unsafe pointer = unsafe p
  }

  func free() { unsafe clkm_table_free(pointer) }
  func setReady(_ ready: Bool) { unsafe clkm_table_set_ready(pointer, ready ? 1 : 0) }

  struct Info {
    var type: Int32
    var version: Int32
    var offset: Int64
    var privateAddress: UInt64
    var name: String
  }

  /// The module's declaration through `private`, checked against its image.
  func info() -> Info? {
    var info = clkm_module_info_t()
    guard unsafe clkm_table_info(pointer, &info) == 0 else { return nil }
    var raw = info.name
    let name = unsafe withUnsafeBytes(of: &raw) {
      unsafe String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    return Info(
      type: info.type, version: info.ver, offset: info.offset,
      privateAddress: info.private_address, name: name)
  }

  /// `entry(lkmtp, cmd, ver)`, guarded.
  func callEntry(_ entry: UInt64, command: Int32, version: Int32) -> Result<Int32, ModuleFault> {
    Bridge.setActivity(["", "LKM_E_LOAD", "LKM_E_UNLOAD", "LKM_E_STAT"][Int(command & 3)])
    var result: Int32 = 0
    var f = clkm_fault_t()
    if unsafe clkm_call_entry(entry, pointer, command, version, &result, &f) != 0 {
      return .failure(Bridge.faultValue(f))
    }
    return .success(result)
  }
}

extension Bridge {
  static func faultValue(_ f: clkm_fault_t) -> ModuleFault { fault(from: f) }

  /// `void *r(void)`, guarded: the IFUNC resolver's result, or nil if it faulted.
  @Sendable static func callResolver(_ address: UInt64) -> UInt64? {
    unsafe clkm_set_activity("IFUNC resolver")
    var result: UInt64 = 0
    var f = clkm_fault_t()
    return unsafe clkm_call_resolver(address, &result, &f) != 0 ? nil : result
  }

  /// `void f(void)`, guarded; `during` says what it is (`constructor`).
  static func callVoid(_ address: UInt64, during: String) -> ModuleFault? {
    setActivity(during)
    var f = clkm_fault_t()
    return unsafe clkm_call_void(address, &f) != 0 ? fault(from: f) : nil
  }

  /// `sysent[n].sy_call(p, args, retval)`, guarded, for the process `enterProcess` made
  /// current. Pointer arguments point at memory made here for the call (a string's copy, the
  /// bytes given, zeroed room); the `buffer` and `both` arguments' bytes come back after it.
  static func callSyscall(_ n: Int32, _ arguments: [SyscallArgument])
    -> Result<(error: Int32, retval: Int64, buffers: [[UInt8]]), ModuleFault>
  {
    setActivity("system call \(n)")
    var memory: [(pointer: UnsafeMutableRawPointer, count: Int, returned: Bool)] = unsafe []
    defer { unsafe memory.forEach { unsafe free($0.pointer) } }
    var values: [Int64] = []
    for argument in arguments {
      let bytes: [UInt8]
      switch argument {
      case .integer(let v):
        values.append(v)
        continue
      case .string(let s): bytes = Array(s.utf8) + [0]
      case .bytes(let b), .both(let b): bytes = b
      case .buffer(let n): bytes = [UInt8](repeating: 0, count: n)
      }
      // One byte more than asked (never NULL, and a string's terminator when it is not one).
      guard let p = unsafe calloc(bytes.count + 1, 1) else {
        return .success((KernelErrno.ENOMEM.rawValue, 0, []))
      }
      unsafe bytes.withUnsafeBytes { raw in
        if let base = raw.baseAddress { unsafe p.copyMemory(from: base, byteCount: raw.count) }
      }
      unsafe memory.append((p, bytes.count, argument.returned))
      values.append(Int64(Int(bitPattern: p)))
    }
    var error: Int32 = 0
    var retval: (Int64, Int64) = (0, 0)
    var f = clkm_fault_t()
    let padded = values.isEmpty ? [0] : values
    let faulted = unsafe padded.withUnsafeBufferPointer { args in
      unsafe withUnsafeMutableBytes(of: &retval) { rv in
        unsafe clkm_call_syscall(
          n, args.baseAddress!, Int32(values.count), &error,
          rv.baseAddress!.assumingMemoryBound(to: Int64.self), &f)
      }
    }
    if faulted != 0 { return .failure(fault(from: f)) }
    let buffers = unsafe memory.filter(unsafe \.returned).map { m in
      unsafe Array(UnsafeRawBufferPointer(start: m.pointer, count: m.count))
    }
    return .success((error, retval.0, buffers))
  }

  /// The oopses of module calls made deep under the current request, oldest first.
  static func takePendingOopses() -> [(fault: ModuleFault, module: Int32, during: String)] {
    var result: [(ModuleFault, Int32, String)] = []
    var f = clkm_fault_t()
    var module: Int32 = -1
    var during = [CChar](repeating: 0, count: 160)
    while unsafe clkm_take_pending_oops(&f, &module, &during, during.count) != 0 {
      let text = String(
        decoding: during.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      result.append((fault(from: f), module, text))
    }
    return result
  }

  // MARK: Processes

  /// The calling thread serves process pid: 0, or an errno.
  static func enterProcess(pid: Int32, uid: UInt32, gid: UInt32, command: String) -> Int32 {
    unsafe clkm_proc_enter(pid, uid, gid, command)
  }
  static func leaveProcess() { clkm_proc_leave() }
  static func setDeviceRequest(_ on: Bool) { clkm_set_device_request(on ? 1 : 0) }
  static func exitProcess(_ pid: Int32) { clkm_proc_exit(pid) }
  static func exitAllProcesses() { clkm_proc_exit_all() }
  static var processCount: Int { Int(clkm_proc_count()) }
  static var openFileCount: Int { Int(clkm_open_file_count()) }
  static var vnodeCount: Int { Int(clkm_vnode_count()) }

  /// A built-in system call's name (`read`), if it is one.
  static func builtinSyscallName(_ number: Int32) -> String? {
    unsafe clkm_syscall_name(number).map { unsafe String(cString: $0) }
  }
}
