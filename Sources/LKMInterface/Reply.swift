/// What a load that went through gives back.
public struct LoadResult: Sendable, Equatable {
  /// The module's id (-1 for a check, `-n`, which loads nothing).
  public var id: Int32
  /// The entry's address.
  public var entry: UInt64
  /// Where each section went (modload -o).
  public var placements: [PlacedSection]
  /// What does not stop the load (undefined weak symbols, with -v).
  public var warnings: [String]
  /// What the module's hooks uprintf-ed (modload prints it, as OpenBSD's terminal showed it).
  public var output: String
  public init(
    id: Int32, entry: UInt64, placements: [PlacedSection] = [], warnings: [String] = [],
    output: String = ""
  ) {
    self.id = id
    self.entry = entry
    self.placements = placements
    self.warnings = warnings
    self.output = output
  }
}

/// A reply: the error (nil for success, else the OpenBSD errno the ioctl or system call would
/// have set) and what the request returns, one case per kind of answer.
public struct Reply: Sendable, Equatable {
  public enum Body: Sendable, Equatable {
    /// Nothing beyond the error.
    case none
    /// Lines explaining an error (`in use by: a, b`, a sandbox verdict, a malformed request),
    /// and what the module's code uprintf-ed during the request.
    case message(lines: [String], output: String)
    case loaded(LoadResult)
    /// The kernel linked the module and then refused it (LMREADY's error: the module's own, or
    /// EEXIST, ENFILE, EFAULT…), or a trial in the sandbox did: lines that explain it and what
    /// the module's hooks uprintf-ed.
    case refused(lines: [String], output: String)
    /// The link failed (modload's exit 1, as ld failing was): one line per problem.
    case linkFailed([String])
    case status(ModuleStatus)
    /// A system call's `retval[0]`, what it uprintf-ed, and its `buffer` and `both` arguments'
    /// bytes after the call (in argument order).
    case syscall(retval: Int64, output: String, buffers: [[UInt8]] = [])
    /// Text: dmesg, sysctl, addr.
    case text(String)
    /// The message buffer with when each line was written (`lkmctl dmesg -T`): `lineTimes[i]`
    /// is the time of the i-th line of `text` (lines end at each newline; a last line without
    /// one counts), in nanoseconds since the epoch, or 0 when it is not known.
    case messages(text: String, lineTimes: [Int64])
    case symbols([KernelSymbol])
    /// Bytes a read returns, or an ioctl's argument as the driver left it.
    case data([UInt8])
    /// Bytes written.
    case count(Int64)
    case entries([DirectoryEntry])
    case mounts([MountEntry], types: [FileSystemType])
    case exec(ExecResult)
    case crashes([CrashReport])
    /// The kernel process died (or hung and was killed) during the request and was rebooted:
    /// what happened (`killed by SIGSEGV in module 'bad' during LKM_E_LOAD`).
    case panic(String)
  }

  public var error: KernelErrno?
  public var body: Body
  /// Module code faulted during the request: an oops is in the message buffer. A failure with
  /// EFAULT is then the fault's, which the errno alone cannot tell from a module returning
  /// EFAULT; the tools say where to look (``oopsHint``).
  ///
  /// On the wire, a flags byte after the body, present only when set: a reply without an oops
  /// is encoded as before it existed.
  public var oops = false

  public init(error: KernelErrno? = nil, _ body: Body = .none, oops: Bool = false) {
    self.error = error
    self.body = body
    self.oops = oops
  }

  /// The line the tools print after a failure whose reply carries ``oops``, after their name:
  /// `modload: see lkmctl dmesg for the oops`.
  public static let oopsHint = "see lkmctl dmesg for the oops"

  /// The flags byte's bits (only ``oops`` so far).
  static let oopsFlag: UInt8 = 1

  /// A failure with lines that explain it.
  public static func failure(_ error: KernelErrno, _ lines: [String] = [], output: String = "")
    -> Reply
  {
    Reply(
      error: error, lines.isEmpty && output.isEmpty ? .none : .message(lines: lines, output: output)
    )
  }

  /// The explanation lines of a failure (empty when there are none).
  public var lines: [String] {
    switch body {
    case .message(let lines, _), .linkFailed(let lines), .refused(let lines, _): lines
    default: []
    }
  }

  /// What to print after a tool's context for a failed request: `kernel panicked: …;
  /// rebooted` when the kernel died during it, else the errno's text.
  public var errorText: String {
    if case .panic(let what) = body { return "kernel panicked: \(what); rebooted" }
    return (error ?? KernelErrno(0)).text
  }

  /// What module code uprintf-ed during the request, whatever the kind of reply.
  public var output: String {
    switch body {
    case .message(_, let output), .syscall(_, let output, _), .refused(_, let output): output
    case .loaded(let result): result.output
    case .exec(let result): result.output
    default: ""
    }
  }

  private var tag: UInt8 {
    switch body {
    case .none: 0
    case .message: 1
    case .loaded: 2
    case .linkFailed: 3
    case .status: 4
    case .syscall: 5
    case .text: 6
    case .symbols: 7
    case .data: 8
    case .count: 9
    case .entries: 10
    case .mounts: 11
    case .exec: 12
    case .crashes: 13
    case .panic: 14
    case .refused: 15
    case .messages: 16
    }
  }

  public func encoded() -> [UInt8] {
    var w = WireWriter()
    w.int(error?.rawValue ?? 0)
    w.int(tag)
    switch body {
    case .none:
      break
    case .message(let lines, let output):
      w.strings(lines)
      w.string(output)
    case .loaded(let r):
      w.int(r.id)
      w.int(r.entry)
      w.int(UInt32(r.placements.count))
      for p in r.placements {
        w.string(p.object)
        w.int(UInt32(p.index))
        w.string(p.name)
        w.int(p.address)
        w.int(p.size)
      }
      w.strings(r.warnings)
      w.string(r.output)
    case .linkFailed(let lines):
      w.strings(lines)
    case .status(let s):
      w.int(s.id)
      w.string(s.name)
      w.int(s.type)
      w.int(s.offset)
      w.int(s.area)
      w.int(s.pages)
      w.int(s.privateAddress)
      w.int(s.version)
      w.bool(s.faulted)
      w.strings(s.users)
      w.strings(s.files)
    case .syscall(let retval, let output, let buffers):
      w.int(retval)
      w.string(output)
      w.int(UInt32(buffers.count))
      for b in buffers { w.data(b) }
    case .text(let text):
      w.string(text)
    case .symbols(let symbols):
      w.int(UInt32(symbols.count))
      for s in symbols {
        w.int(s.address)
        w.string(String(s.type))
        w.string(s.name)
        w.optionalString(s.module)
      }
    case .data(let data):
      w.data(data)
    case .count(let count):
      w.int(count)
    case .entries(let entries):
      w.int(UInt32(entries.count))
      for e in entries { Reply.encode(e, into: &w) }
    case .mounts(let mounts, let types):
      w.int(UInt32(mounts.count))
      for m in mounts {
        w.string(m.type)
        w.string(m.path)
      }
      w.int(UInt32(types.count))
      for f in types {
        w.string(f.name)
        w.int(f.typeNumber)
        w.int(f.mounts)
        w.int(f.module)
      }
    case .exec(let result):
      w.int(result.status)
      w.string(result.output)
    case .crashes(let reports):
      w.int(UInt32(reports.count))
      for c in reports {
        w.int(c.number)
        w.int(c.time)
        w.string(c.reason)
        w.optionalString(c.request)
        w.optionalString(c.module)
        w.string(c.text)
        w.string(c.path)
      }
    case .panic(let text):
      w.string(text)
    case .refused(let lines, let output):
      w.strings(lines)
      w.string(output)
    case .messages(let text, let lineTimes):
      w.string(text)
      w.int(UInt32(lineTimes.count))
      for t in lineTimes { w.int(t) }
    }
    if oops { w.int(Reply.oopsFlag) }
    return w.bytes
  }

  static func encode(_ e: DirectoryEntry, into w: inout WireWriter) {
    w.string(e.name)
    var node = DeviceNode(kind: .character, major: 0, minor: 0)
    switch e.kind {
    case .directory: w.int(UInt8(0))
    case .regular: w.int(UInt8(1))
    case .link: w.int(UInt8(2))
    case .other: w.int(UInt8(3))
    case .device(let n):
      w.int(UInt8(n.kind == .block ? 5 : 4))
      node = n
    }
    w.int(node.major)
    w.int(node.minor)
    w.bool(e.size != nil)
    w.int(e.size ?? 0)
    w.bool(e.mode != nil)
    w.int(e.mode ?? 0)
  }

  static func decodeEntry(_ r: inout WireReader) throws(WireError) -> DirectoryEntry {
    let name = try r.string()
    let kindCode = try r.int(UInt8.self)
    let major = try r.int(Int32.self)
    let minor = try r.int(Int32.self)
    let hasSize = try r.bool()
    let size = try r.int(Int64.self)
    let hasMode = try r.bool()
    let mode = try r.int(Int64.self)
    let kind: DirectoryEntry.Kind
    switch kindCode {
    case 0: kind = .directory
    case 1: kind = .regular
    case 2: kind = .link
    case 3: kind = .other
    case 4, 5:
      kind = .device(
        DeviceNode(
          kind: kindCode == 5 ? .block : .character, major: major, minor: minor, mode: mode))
    default: throw WireError("unknown entry kind \(kindCode)")
    }
    return DirectoryEntry(
      name: name, kind: kind, size: hasSize ? size : nil, mode: hasMode ? mode : nil)
  }

  /// Decodes a reply.
  ///
  /// - Throws: ``WireError`` for an unknown kind, a truncated field or trailing bytes.
  public static func decode(_ bytes: [UInt8]) throws(WireError) -> Reply {
    var r = WireReader(bytes)
    let errno = try r.int(Int32.self)
    let error = errno == 0 ? nil : KernelErrno(errno)
    let tag = try r.int(UInt8.self)
    let body: Body
    switch tag {
    case 0: body = .none
    case 1: body = .message(lines: try r.strings(), output: try r.string())
    case 2:
      let id = try r.int(Int32.self)
      let entry = try r.int(UInt64.self)
      var placements: [PlacedSection] = []
      for _ in 0..<(try r.count(limit: 1 << 22)) {
        placements.append(
          PlacedSection(
            object: try r.string(), index: Int(try r.int(UInt32.self)), name: try r.string(),
            address: try r.int(UInt64.self), size: try r.int(UInt64.self)))
      }
      body = .loaded(
        LoadResult(
          id: id, entry: entry, placements: placements, warnings: try r.strings(),
          output: try r.string()))
    case 3: body = .linkFailed(try r.strings())
    case 4:
      var status = ModuleStatus(
        id: try r.int(Int32.self), name: try r.string(), type: try r.int(Int32.self),
        offset: try r.int(Int64.self), area: try r.int(UInt64.self),
        pages: try r.int(UInt64.self), privateAddress: try r.int(UInt64.self),
        version: try r.int(Int32.self), faulted: try r.bool())
      status.users = try r.strings()
      status.files = try r.strings()
      body = .status(status)
    case 5:
      let retval = try r.int(Int64.self)
      let output = try r.string()
      var buffers: [[UInt8]] = []
      for _ in 0..<(try r.count(limit: 16)) {
        buffers.append(try r.data(limit: Request.syscallBufferLimit))
      }
      body = .syscall(retval: retval, output: output, buffers: buffers)
    case 6: body = .text(try r.string())
    case 7:
      var symbols: [KernelSymbol] = []
      for _ in 0..<(try r.count(limit: 1 << 22)) {
        let address = try r.int(UInt64.self)
        let type = try r.string().first ?? "?"
        symbols.append(
          KernelSymbol(
            address: address, type: type, name: try r.string(), module: try r.optionalString()))
      }
      body = .symbols(symbols)
    case 8: body = .data(try r.data())
    case 9: body = .count(try r.int(Int64.self))
    case 10:
      var entries: [DirectoryEntry] = []
      for _ in 0..<(try r.count(limit: 1 << 20)) { entries.append(try decodeEntry(&r)) }
      body = .entries(entries)
    case 11:
      var mounts: [MountEntry] = []
      for _ in 0..<(try r.count(limit: 1 << 16)) {
        mounts.append(MountEntry(type: try r.string(), path: try r.string()))
      }
      var types: [FileSystemType] = []
      for _ in 0..<(try r.count(limit: 1 << 16)) {
        types.append(
          FileSystemType(
            name: try r.string(), typeNumber: try r.int(Int32.self),
            mounts: try r.int(UInt32.self), module: try r.int(Int32.self)))
      }
      body = .mounts(mounts, types: types)
    case 12: body = .exec(ExecResult(status: try r.int(Int32.self), output: try r.string()))
    case 13:
      var reports: [CrashReport] = []
      for _ in 0..<(try r.count(limit: 1 << 16)) {
        reports.append(
          CrashReport(
            number: try r.int(Int32.self), time: try r.int(Int64.self), reason: try r.string(),
            request: try r.optionalString(), module: try r.optionalString(),
            text: try r.string(), path: try r.string()))
      }
      body = .crashes(reports)
    case 14: body = .panic(try r.string())
    case 15: body = .refused(lines: try r.strings(), output: try r.string())
    case 16:
      let text = try r.string()
      let n = try r.count(limit: 1 << 20)
      // One time per line of the text, no more.
      guard n <= MessageTimes.lineCount(of: Array(text.utf8)) else {
        throw WireError("\(n) line times for fewer lines")
      }
      var lineTimes: [Int64] = []
      lineTimes.reserveCapacity(n)
      for _ in 0..<n { lineTimes.append(try r.int(Int64.self)) }
      body = .messages(text: text, lineTimes: lineTimes)
    default: throw WireError("unknown reply kind \(tag)")
    }
    // The flags byte: absent (no flag set), or known flags only.
    var oops = false
    if !r.isAtEnd {
      let flags = try r.int(UInt8.self)
      guard flags == Reply.oopsFlag else { throw WireError("unknown reply flags \(flags)") }
      oops = true
    }
    guard r.isAtEnd else { throw WireError("trailing bytes after reply") }
    return Reply(error: error, body, oops: oops)
  }
}

extension WireWriter {
  mutating func strings(_ values: [String]) {
    int(UInt32(values.count))
    for v in values { string(v) }
  }
}

extension WireReader {
  mutating func strings() throws(WireError) -> [String] {
    var values: [String] = []
    for _ in 0..<(try count(limit: 1 << 20)) { values.append(try string()) }
    return values
  }
}

extension Reply {
  /// The text of a `.text` reply, or what a system call or exec uprintf-ed; else empty.
  public var text: String {
    switch body {
    case .text(let text), .messages(let text, _): text
    case .syscall(_, let output, _): output
    case .exec(let result): result.output
    default: ""
    }
  }
  /// A system call's returned buffers (its `buffer` and `both` arguments, in order).
  public var buffers: [[UInt8]] { if case .syscall(_, _, let b) = body { b } else { [] } }
  public var status: ModuleStatus? { if case .status(let s) = body { s } else { nil } }
  public var symbols: [KernelSymbol] { if case .symbols(let s) = body { s } else { [] } }
  public var data: [UInt8] { if case .data(let d) = body { d } else { [] } }
  public var entries: [DirectoryEntry] { if case .entries(let e) = body { e } else { [] } }
  public var mounts: [MountEntry] { if case .mounts(let m, _) = body { m } else { [] } }
  public var fileSystems: [FileSystemType] { if case .mounts(_, let t) = body { t } else { [] } }
  public var crashReports: [CrashReport] { if case .crashes(let c) = body { c } else { [] } }
  /// A system call's retval, an exec's status, a write's byte count.
  public var retval: Int64 {
    switch body {
    case .syscall(let retval, _, _): retval
    case .exec(let result): Int64(result.status)
    case .count(let n): n
    default: 0
    }
  }
}
