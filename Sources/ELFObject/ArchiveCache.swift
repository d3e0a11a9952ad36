import LKMBase
import Synchronization

/// Archives read from files, kept for the process by the file's identity, so that a process
/// that links against the same archive again (lkmd, lkmbench, a test suite) neither maps it nor
/// reads its symbol index again, and finds the members an earlier link parsed (an ``Archive``
/// keeps its parsed members).
///
/// Never stale: an entry is found only for the same path and the same ``FileIdentity`` (device,
/// inode, size, modification and status-change times in nanoseconds). A file is kept only once
/// its status-change time is at least ``minimumAge`` in the past when it is read, so that a
/// write within the same tick of the kernel's clock (whose timestamps are coarse) cannot leave
/// the identity unchanged: any later change of the file, which sets its status-change time to
/// the time of the change, gives it another identity (git's "racily clean" rule).
public final class ArchiveCache: Sendable {
  private struct Entry {
    var path: String
    var identity: FileIdentity
    var archive: Archive
    var used: UInt64
  }

  private struct State {
    var entries: [Entry] = []
    var clock: UInt64 = 0
  }

  private let state = Mutex(State())
  /// How many archives are kept (the least recently used goes first).
  public let capacity: Int
  /// How long ago, in nanoseconds, a file must have last changed to be kept.
  public let minimumAge: Int64

  /// The process's cache: 8 archives, each kept once it has not changed for a second.
  public static let shared = ArchiveCache(capacity: 8, minimumAge: 1_000_000_000)

  public init(capacity: Int, minimumAge: Int64) {
    self.capacity = capacity
    self.minimumAge = minimumAge
  }

  /// The archive the file at `path` held when it had `identity`, if one was kept.
  public func archive(path: String, identity: FileIdentity) -> Archive? {
    state.withLock { state in
      guard let k = state.entries.firstIndex(where: { $0.identity == identity && $0.path == path })
      else { return nil }
      state.clock += 1
      state.entries[k].used = state.clock
      return state.entries[k].archive
    }
  }

  /// The archive at `path` from the cache, without mapping the file, when one of the file's
  /// current identity was kept.
  public func archive(path: String) -> Archive? {
    guard let identity = FileIdentity.of(path) else { return nil }
    return archive(path: path, identity: identity)
  }

  /// The archive in `bytes` (a mapped file's: its name is the path): the one kept for the same
  /// file and identity, else the bytes indexed, and kept if the file is old enough.
  ///
  /// - Throws: what ``Archive/init(bytes:)`` throws.
  public func archive(bytes: FileBytes) throws(ELFError) -> Archive {
    guard let identity = bytes.identity else { return try Archive(bytes: bytes) }
    if let known = archive(path: bytes.name, identity: identity) { return known }
    let archive = try Archive(bytes: bytes)
    let nanoseconds = realtimeNanoseconds()
    guard identity.changed <= nanoseconds - minimumAge else { return archive }
    state.withLock { state in
      state.clock += 1
      let entry = Entry(path: bytes.name, identity: identity, archive: archive, used: state.clock)
      // A file kept under an older identity is gone for good.
      state.entries.removeAll { $0.path == bytes.name }
      if state.entries.count >= capacity, capacity > 0,
        let oldest = state.entries.indices.min(by: {
          state.entries[$0].used < state.entries[$1].used
        })
      {
        state.entries.remove(at: oldest)
      }
      if capacity > 0 { state.entries.append(entry) }
    }
    return archive
  }

  /// Forgets every archive.
  public func removeAll() {
    state.withLock { $0.entries.removeAll() }
  }

  /// How many archives are kept.
  public var count: Int { state.withLock { $0.entries.count } }
}
