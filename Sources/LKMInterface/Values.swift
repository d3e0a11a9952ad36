// The values the kernel's interface speaks: who asks, what a load sends, what modstat and
// ksyms show. Requests and replies (Request.swift, Reply.swift) carry them over the device.

/// Who is asking: the peer of a device session (`SO_PEERCRED`, and `SO_PEERGROUPS` for the
/// supplementary groups).
public struct Credentials: Sendable, Equatable {
  public var pid: Int32
  public var uid: UInt32
  public var gid: UInt32
  public var command: String
  /// The supplementary groups (what `getgroups(2)` gave the peer when it connected).
  public var groups: [UInt32]
  public init(pid: Int32, uid: UInt32, gid: UInt32, command: String, groups: [UInt32] = []) {
    self.pid = pid
    self.uid = uid
    self.gid = gid
    self.command = command
    self.groups = groups
  }
}

/// A load: the objects (and archives) that make one module, its entry, and how.
public struct LoadRequest: Sendable {
  public struct Input: Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) {
      self.name = name
      self.bytes = bytes
    }
  }
  public var inputs: [Input]
  /// The entry function's name (modload's -e); nil: modload's default rule, `xxxinit`, else
  /// `BASENAME_lkmentry` (see ``entryCandidates``), applied by the kernel to the objects it
  /// parsed.
  public var entry: String?
  /// `-s` off: the module's globals join the kernel symbol table.
  public var exportSymbols = true
  /// `-n`: link completely, then discard without calling the entry.
  public var checkOnly = false
  /// The version passed to the entry: `LKM_VERSION` (2), or 1 for the old-style retry.
  public var version: Int32 = 2
  public init(inputs: [Input], entry: String? = nil) {
    self.inputs = inputs
    self.entry = entry
  }

  /// The module's name in messages until its declaration is read: the first input's.
  public var displayName: String { inputs.first?.name ?? "module" }

  /// The names the entry may have, in the order modload tries them: `-e`'s, or `xxxinit` then
  /// the first input's base name without `.o` followed by `_lkmentry` (foo.o → foo_lkmentry).
  /// As modload.c compares the entry with its default, `-e xxxinit` falls back too.
  ///
  /// The corresponding OpenBSD code is the entry check in `sbin/modload/modload.c`.
  public var entryCandidates: [String] {
    if let entry, entry != "xxxinit" { return [entry] }
    let file = displayName.split(separator: "/").last.map(String.init) ?? displayName
    let base = file.hasSuffix(".o") ? String(file.dropLast(2)) : file
    return ["xxxinit", base + "_lkmentry"]
  }
}

/// Where a section of a loaded module went (modload -o writes it back into the objects).
public struct PlacedSection: Sendable, Equatable {
  /// The object's name (`archive(member)` for a member).
  public var object: String
  /// The section's index in its object.
  public var index: Int
  public var name: String
  public var address: UInt64
  public var size: UInt64
  public init(object: String, index: Int, name: String, address: UInt64, size: UInt64) {
    self.object = object
    self.index = index
    self.name = name
    self.address = address
    self.size = size
  }
}

/// One row of modstat.
public struct ModuleStatus: Sendable, Equatable {
  public var id: Int32
  public var name: String
  public var type: Int32
  public var offset: Int64
  public var area: UInt64
  /// Size in pages (bytes / 4096, truncating).
  public var pages: UInt64
  public var privateAddress: UInt64
  public var version: Int32
  public var faulted: Bool
  /// The modules that use this one (modstat -v).
  public var users: [String] = []
  /// The files it was loaded from, as modload named them (modstat -v).
  public var files: [String] = []

  public init(
    id: Int32, name: String, type: Int32, offset: Int64, area: UInt64, pages: UInt64,
    privateAddress: UInt64, version: Int32, faulted: Bool
  ) {
    self.id = id
    self.name = name
    self.type = type
    self.offset = offset
    self.area = area
    self.pages = pages
    self.privateAddress = privateAddress
    self.version = version
    self.faulted = faulted
  }
}

/// A symbol of the kernel symbol table, for `lkmctl ksyms`.
public struct KernelSymbol: Sendable, Equatable {
  public var address: UInt64
  /// `T` text, `D` data, `t`/`d` local
  public var type: Character
  public var name: String
  /// The module that defines it, or nil for the kernel itself.
  public var module: String?

  public init(address: UInt64, type: Character, name: String, module: String?) {
    self.address = address
    self.type = type
    self.name = name
    self.module = module
  }
}

/// An argument of a system call, as the process's memory would hold it: an integer in its
/// register, or a pointer to memory the kernel process makes for the call: a NUL-terminated
/// copy of a string, the bytes given (`bytes`: copyin's source), `count` zero bytes the call
/// fills (`buffer`: copyout's target), or bytes given and returned (`both`). The reply carries
/// the `buffer` and `both` arguments' bytes back, in order.
public enum SyscallArgument: Sendable, Equatable {
  case integer(Int64)
  case string(String)
  case bytes([UInt8])
  case buffer(Int)
  case both([UInt8])

  /// Whether the reply returns this argument's bytes.
  public var returned: Bool {
    switch self {
    case .buffer, .both: true
    default: false
    }
  }
}

/// What running a program through the execution switch gave.
public struct ExecResult: Sendable, Equatable {
  /// The program's exit status (what its ep_entry returned).
  public var status: Int32
  /// What it uprintf-ed.
  public var output: String
  public init(status: Int32, output: String) {
    self.status = status
    self.output = output
  }
}

/// What the supervisor recorded when the kernel process died or hung: `lkmctl crashes`.
public struct CrashReport: Sendable, Equatable {
  /// 1, 2, … since lkmd started.
  public var number: Int32
  /// Seconds since the epoch.
  public var time: Int64
  /// `killed by SIGSEGV`, `exited with status 3`, `hung for 30 s: killed`, …
  public var reason: String
  /// The request in flight when it happened, if any (`load hello.o`).
  public var request: String?
  /// The module whose code was running (or last entered), if known.
  public var module: String?
  /// The whole report as written to the crash directory.
  public var text: String
  /// The file it was written to (empty when the directory could not be written).
  public var path: String
  public init(
    number: Int32, time: Int64, reason: String, request: String?, module: String?, text: String,
    path: String
  ) {
    self.number = number
    self.time = time
    self.reason = reason
    self.request = request
    self.module = module
    self.text = text
    self.path = path
  }
}
