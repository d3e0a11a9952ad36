import ELFObject
import Foundation
import Glibc
import LKMBase
import ModuleLinker
import TestSupport
import Testing

/// A fresh cache in a temporary directory.
func temporaryCache(sizeLimit: Int = ImageCache.defaultSizeLimit) throws -> ImageCache {
  try ImageCache(directory: TestSupport.temporaryDirectory("cache") + "/lkm", sizeLimit: sizeLimit)
}

/// Links `paths` with a cache (or none), in `regions`, with `providers` (the host's by default).
func link(
  _ paths: [String], cache: ImageCache?, regions: [ModuleRegion] = [],
  providers: [any SymbolProvider]? = nil, entry: String? = nil, allowUndefined: Bool = false,
  calls: CallBinding? = nil
) throws -> LoadedModule {
  var options = LinkOptions(providers: try providers ?? [HostSymbolProvider(libraries: [])])
  options.cache = cache
  options.callBinding = calls
  options.regions = regions
  options.entry = entry
  options.allowUndefined = allowUndefined
  return try ModuleLinker(options: options).link(contentsOf: paths)
}

/// Everything a module shows: its bytes and its tables, for comparing two loads at one address.
struct ModuleSnapshot: Equatable {
  var base: UInt64
  var bytes: [UInt8]
  var exports: [String: UInt64]
  var functions: [String]
  var placements: [String]
  var externals: [String]
  var stubs: [String: UInt64]
  var got: [String: UInt64]
  var initializers: [UInt64]
  var finalizers: [UInt64]
  var objectNames: [String]

  init(_ module: LoadedModule) {
    base = module.baseAddress
    bytes = module.bytes(at: module.baseAddress, count: module.size)
    exports = module.exports
    functions = module.functions.map { "\(hex($0.address)) \($0.size) \($0.name)" }
    placements = module.placements.map {
      "\($0.object) \($0.index) \($0.name) \(hex($0.address)) \($0.size)"
    }
    externals = module.externals.map { "\($0.key) \(hex($0.value.address)) \($0.value.provider)" }
      .sorted()
    stubs = module.stubs
    got = module.gotEntries
    initializers = module.initializers
    finalizers = module.finalizers
    objectNames = module.objectNames
  }

  /// The first differences, for a failure's message.
  func differences(_ other: ModuleSnapshot) -> String {
    var lines: [String] = []
    if base != other.base { lines.append("base \(hex(base)) vs \(hex(other.base))") }
    if bytes.count != other.bytes.count {
      lines.append("size \(bytes.count) vs \(other.bytes.count)")
    } else {
      for i in bytes.indices where bytes[i] != other.bytes[i] {
        lines.append(
          "+\(hex(UInt64(i))): \(hex(UInt64(bytes[i]))) vs \(hex(UInt64(other.bytes[i])))")
        if lines.count > 8 { break }
      }
    }
    for (name, a, b) in [
      ("exports", "\(exports.count)", "\(other.exports.count)"),
      ("functions", "\(functions.count)", "\(other.functions.count)"),
      ("placements", "\(placements.count)", "\(other.placements.count)"),
    ]
    where a != b || (name == "exports" && exports != other.exports)
      || (name == "functions" && functions != other.functions)
      || (name == "placements" && placements != other.placements)
    {
      lines.append("\(name) differ (\(a) vs \(b))")
    }
    if externals != other.externals { lines.append("externals differ") }
    if stubs != other.stubs { lines.append("stubs \(stubs) vs \(other.stubs)") }
    if got != other.got { lines.append("GOT entries differ") }
    if initializers != other.initializers || finalizers != other.finalizers {
      lines.append("constructors or finalizers differ")
    }
    if objectNames != other.objectNames { lines.append("object names differ") }
    return lines.joined(separator: "\n")
  }
}

/// A provider of functions at chosen addresses, with a chosen identity: for stubs decided at
/// another base, and for answers that change under the same identity.
final class ChosenSymbols: SymbolProvider, @unchecked Sendable {
  let providerName = "chosen"
  let cacheIdentity: String
  let symbols: [String: ProvidedSymbol]

  init(identity: String = "chosen", _ symbols: [String: ProvidedSymbol]) {
    self.cacheIdentity = identity
    self.symbols = symbols
  }

  func lookup(_ name: String) -> ProvidedSymbol? { symbols[name] }
}

/// One module to load fresh and cached at the same address.
struct IdentityCase: Sendable, CustomTestStringConvertible {
  var label: String
  var source: String
  var flags: String
  var compiler: String = "gcc"
  var archive: String?
  var libraries: [String] = []
  /// Whether the module must sit below 2 GiB.
  var low = false
  var testDescription: String { label }

  static let all: [IdentityCase] = [
    IdentityCase(
      label: "sqlite (default PIE, 88 objects)",
      source: """
        #include <sqlite3.h>
        int main(void) { sqlite3 *db; return sqlite3_open(":memory:", &db) + sqlite3_close(db); }
        """, flags: "-O2", archive: LifecycleTests.sqliteArchive),
    IdentityCase(
      label: "-fno-pic below 2 GiB (low stubs as the functions' addresses)",
      source: lowSource + """

        #include <stdio.h>
        static const char *names[] = { "a", "b" };
        int (*put)(const char *) = puts;
        int (*volatile taken)(const char *);
        const char *name(int i) { taken = puts; return names[i]; }
        """, flags: "-O2 -fno-pic", low: true),
    IdentityCase(
      label: "C++ -fno-pic below 2 GiB (copies of libstdc++'s typeinfo)",
      source: """
        #include <stdexcept>
        #include <cstdio>
        int main() {
          try { throw std::runtime_error("caught"); }
          catch (const std::exception &e) { std::puts(e.what()); }
          return 0;
        }
        """, flags: "-O2 -fno-pic", compiler: "g++", libraries: ["stdc++"], low: true),
    IdentityCase(
      label: "an IFUNC, constructors and atexit",
      source: """
        #include <stdlib.h>
        static int impl(void) { return 40; }
        static void *resolve(void) { return (void *)impl; }
        int pick(void) __attribute__((ifunc("resolve")));
        int (*const table[])(void) = { pick };
        int counter;
        static void bye(void) { counter--; }
        __attribute__((constructor)) static void hello(void) { counter++; atexit(bye); }
        int main(void) { return pick() + counter; }
        """, flags: "-O0 -fPIC"),
  ]
}

@Suite("Image cache", .serialized)
struct ImageCacheTests {
  @Test("a second link of the same inputs loads the cached image, which runs")
  func hit() throws {
    let cache = try temporaryCache()
    let driver = try LifecycleTests.sqliteDriver()
    let first = try link([driver, LifecycleTests.sqliteArchive], cache: cache)
    #expect(first.statistics.cache == .stored(missed: "no entry"))
    #expect(first.callMain("main", arguments: []) == 6)
    let second = try link([driver, LifecycleTests.sqliteArchive], cache: cache)
    #expect(second.statistics.cache == .hit)
    // Another address: the first module is still there.
    #expect(second.baseAddress != first.baseAddress)
    #expect(second.callMain("main", arguments: []) == 6)
    #expect(second.objectNames == first.objectNames)
    #expect(
      second.exports["run"] == second.baseAddress + (first.exports["run"]! - first.baseAddress))
    // With a cache, calls out of the module go through stubs (as through a PLT).
    #expect(first.stubs["sqlite3_open"] == nil && first.stubs["malloc"] != nil, "\(first.stubs)")
  }

  @Test("a hit finds one export by name as the whole table does, without making the table")
  func exportByName() throws {
    let cache = try temporaryCache()
    let driver = try LifecycleTests.sqliteDriver()
    let first = try link([driver, LifecycleTests.sqliteArchive], cache: cache)
    let second = try link([driver, LifecycleTests.sqliteArchive], cache: cache)
    #expect(second.statistics.cache == .hit)
    let names = [
      "run", "main", "sqlite3_open", "sqlite3_close", "sqlite3_exec", "no_such_symbol", "",
    ]
    // Asked before the table is made (the lookup reads the entry), then against the table.
    let found = names.map { second.address(ofExport: $0) }
    let table = second.exports
    #expect(table.count == first.exports.count && table.count > 100)
    for (name, address) in zip(names, found) {
      #expect(address == table[name], "\(name)")
      #expect(
        address.map { $0 - second.baseAddress }
          == first.exports[name].map { $0 - first.baseAddress })
    }
  }

  @Test(
    "a hit maps the entry's file; with anonymousImages it reads the image into anonymous memory")
  func anonymousImages() throws {
    let driver = try LifecycleTests.sqliteDriver()
    let directory = try TestSupport.temporaryDirectory("cache") + "/lkm"
    /// The /proc/self/maps line of the mapping that holds `address` (read to its end with
    /// read(2): a test process's maps are longer than what one read of a zero-sized file gets).
    func mapping(_ address: UInt64) throws -> String {
      let fd = unsafe open("/proc/self/maps", O_RDONLY)
      defer { close(fd) }
      var bytes: [UInt8] = []
      var chunk = [UInt8](repeating: 0, count: 65536)
      while true {
        let n = unsafe chunk.withUnsafeMutableBytes {
          unsafe Glibc.read(fd, $0.baseAddress, $0.count)
        }
        if n <= 0 { break }
        bytes += chunk[0..<n]
      }
      let maps = String(decoding: bytes, as: UTF8.self)
      for line in maps.split(separator: "\n") {
        let range = line.prefix { $0 != " " }.split(separator: "-").compactMap {
          UInt64($0, radix: 16)
        }
        if range.count == 2 && range[0] <= address && address < range[1] { return String(line) }
      }
      return ""
    }
    var fs = statvfs()
    let noexec = unsafe statvfs(directory, &fs) == 0 && fs.f_flag & 8 != 0  // ST_NOEXEC
    let mapped = try ImageCache(directory: directory)
    _ = try link([driver, LifecycleTests.sqliteArchive], cache: mapped)
    let hit = try link([driver, LifecycleTests.sqliteArchive], cache: mapped)
    #expect(hit.statistics.cache == .hit)
    let hitLine = try mapping(hit.baseAddress)
    #expect(hitLine.hasSuffix(".lkmimg") != noexec, "\(hitLine)")
    let anonymous = try ImageCache(directory: directory, anonymousImages: true)
    let read = try link([driver, LifecycleTests.sqliteArchive], cache: anonymous)
    #expect(read.statistics.cache == .hit)
    let line = try mapping(read.baseAddress)
    // START-END PERMS OFFSET DEVICE INODE [PATH]: no file behind it.
    let fields = line.split(separator: " ", omittingEmptySubsequences: true)
    #expect(fields.count == 5 && fields[4] == "0", "\(line)")
    #expect(read.callMain("main", arguments: []) == 6)
  }

  @Test("calls bound through stubs leave the text independent of where the callees are")
  func throughStubs() throws {
    let path = try compileC(
      "#include <string.h>\nint main(int c, char **v) { return (int)strlen(v[0]) + (int)strspn(v[0], \"m\"); }"
    )
    let direct = try link([path], cache: nil, calls: .direct)
    let stubbed = try link([path], cache: nil, calls: .throughStubs)
    #expect(direct.stubs.isEmpty)
    #expect(Set(stubbed.stubs.keys) == ["strlen", "strspn"])
    #expect(stubbed.callMain("main", arguments: ["mm"]) == 4)
    #expect(direct.callMain("main", arguments: ["mm"]) == 4)
  }

  @Test(
    "a cached image is byte for byte a fresh link at the same address",
    arguments: IdentityCase.all, [CallBinding.throughStubs, .direct])
  func identical(_ identity: IdentityCase, calls: CallBinding) throws {
    let path = try compileC(identity.source, flags: identity.flags, compiler: identity.compiler)
    let paths = [path] + (identity.archive.map { [$0] } ?? [])
    let providers: [any SymbolProvider] = [try HostSymbolProvider(libraries: identity.libraries)]
    let size = try link(paths, cache: nil, providers: providers, calls: calls).size
    // A region the image fills exactly: every load lands at the same address.
    let region =
      identity.low
      ? try ModuleRegion(reserving: size, within: 0x10000...0x7fff_ffff)
      : try ModuleRegion(reserving: size, near: libcDataAddress())
    let cache = try temporaryCache()
    var snapshots: [ModuleSnapshot] = []
    for (k, withCache) in [false, true, true].enumerated() {
      let module = try link(
        paths, cache: withCache ? cache : nil, regions: [region], providers: providers,
        calls: calls)
      #expect(module.baseAddress == region.range.lowerBound)
      let expected: CacheOutcome? = k == 0 ? nil : k == 1 ? .stored(missed: "no entry") : .hit
      #expect(module.statistics.cache == expected)
      snapshots.append(ModuleSnapshot(module))
    }
    #expect(
      snapshots[1] == snapshots[0], "stored vs fresh:\n\(snapshots[1].differences(snapshots[0]))")
    #expect(
      snapshots[2] == snapshots[0], "cached vs fresh:\n\(snapshots[2].differences(snapshots[0]))")
  }

  @Test(
    "bound directly, stubs are decided again at the new address: written where the target is out of reach"
  )
  func stubsDecidedAgain() throws {
    let path = try compileC(
      "extern int faraway(void); int main(void) { return faraway() + 1; }", flags: "-O2")
    // A function high in the address space (never called): reached directly from a region
    // near it, through a stub from one below 2 GiB.
    let near = try ModuleRegion(reserving: 4 << 20, near: libcDataAddress())
    let low = try ModuleRegion(reserving: 4 << 20, within: 0x10000...0x7fff_ffff)
    let target = near.range.lowerBound + (2 << 20)
    let providers: [any SymbolProvider] = [
      try HostSymbolProvider(libraries: []),
      ChosenSymbols(["faraway": ProvidedSymbol(address: target, isFunction: true)]),
    ]
    let cache = try temporaryCache()
    /// Links in `region` and drops the module: what it looked like.
    func loaded(_ region: ModuleRegion, cache: ImageCache?) throws -> (
      ModuleSnapshot, CacheOutcome?
    ) {
      let module = try link(
        [path], cache: cache, regions: [region], providers: providers, calls: .direct)
      return (ModuleSnapshot(module), module.statistics.cache)
    }
    // Stored near (no stub), loaded low (a stub); then the other way round.
    for (store, load) in [(near, low), (low, near)] {
      cache.removeAll()
      let (stored, storedOutcome) = try loaded(store, cache: cache)
      #expect(storedOutcome == .stored(missed: "no entry"))
      #expect(stored.stubs.isEmpty == (store === near))
      let (cached, cachedOutcome) = try loaded(load, cache: cache)
      #expect(cachedOutcome == .hit)
      #expect(cached.base != stored.base)
      #expect(cached.stubs.isEmpty == (load === near))
      let (fresh, _) = try loaded(load, cache: nil)
      #expect(fresh == cached, "\(fresh.differences(cached))")
    }
  }

  @Test("a changed byte of an input misses, and the new bytes are what runs")
  func inputChange() throws {
    let cache = try temporaryCache()
    let path = try compileC("int main(void) { return 41; }")
    #expect(try link([path], cache: cache).statistics.cache == .stored(missed: "no entry"))
    #expect(try link([path], cache: cache).statistics.cache == .hit)
    // `mov $41, %eax` → `mov $42, %eax`: one byte of .text.
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let at = try #require(
      bytes.indices.first { bytes[$0] == 0xb8 && $0 + 1 < bytes.count && bytes[$0 + 1] == 41 })
    bytes[at + 1] = 42
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let changed = try link([path], cache: cache)
    #expect(changed.statistics.cache == .stored(missed: "no entry"))
    #expect(changed.callMain("main", arguments: []) == 42)
    // A byte no section loads (the .comment text) misses too: the key is every byte.
    let comment = try #require(
      bytes.indices.first { bytes[$0...].starts(with: Array("GCC:".utf8)) })
    bytes[comment] = UInt8(ascii: "g")
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    #expect(try link([path], cache: cache).statistics.cache == .stored(missed: "no entry"))
  }

  @Test(
    "a changed option misses: the entry point, undefined symbols allowed, module regions, call binding"
  )
  func optionChange() throws {
    let cache = try temporaryCache()
    let path = try compileC(
      "extern int maybe(void) __attribute__((weak)); int other(void) { return 2; } "
        + "int main(void) { return maybe ? 1 : 5; }")
    #expect(try link([path], cache: cache).statistics.cache == .stored(missed: "no entry"))
    #expect(try link([path], cache: cache).statistics.cache == .hit)
    #expect(try link([path], cache: cache, entry: "other").statistics.cache != .hit)
    #expect(try link([path], cache: cache, entry: "other").statistics.cache == .hit)
    #expect(try link([path], cache: cache, allowUndefined: true).statistics.cache != .hit)
    #expect(try link([path], cache: cache, calls: .direct).statistics.cache != .hit)
    #expect(try link([path], cache: cache, calls: .direct).statistics.cache == .hit)
    let region = try ModuleRegion(reserving: 4 << 20, near: libcDataAddress())
    #expect(try link([path], cache: cache, regions: [region]).statistics.cache != .hit)
    #expect(try link([path], cache: cache, regions: [region]).statistics.cache == .hit)
  }

  @Test("a provider of another identity misses; one whose answers changed has the entry refused")
  func providerChange() throws {
    let cache = try temporaryCache()
    let path = try compileC("extern int given(void); int main(void) { return given(); }")
    let host = try HostSymbolProvider(libraries: [])
    func providers(_ identity: String, size: UInt64?) -> [any SymbolProvider] {
      [
        host,
        ChosenSymbols(
          identity: identity,
          ["given": ProvidedSymbol(address: 0x1000, isFunction: true, size: size)]),
      ]
    }
    #expect(
      try link([path], cache: cache, providers: providers("v1", size: 8)).statistics.cache != .hit)
    #expect(
      try link([path], cache: cache, providers: providers("v1", size: 8)).statistics.cache == .hit)
    // Another identity: another key.
    #expect(
      try link([path], cache: cache, providers: providers("v2", size: 8)).statistics.cache
        == .stored(missed: "no entry"))
    // The same identity, another answer: the entry is refused, relinked and stored again.
    #expect(
      try link([path], cache: cache, providers: providers("v1", size: 16)).statistics.cache
        == .stored(missed: "'given' is not what it was when the entry was made"))
    #expect(
      try link([path], cache: cache, providers: providers("v1", size: 16)).statistics.cache == .hit)
  }

  /// The key names a runtime archive only by name (finding the file costs a `gcc` run); the
  /// entry records the file it pulled members from.
  @Test("a changed runtime archive misses, by its bytes or its identity, and the new member runs")
  func runtimeArchiveChange() throws {
    let cache = try temporaryCache()
    let directory = try TestSupport.temporaryDirectory("runtime")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let archive = directory + "/libhelper.a"
    func makeArchive(returning value: Int) throws {
      let member = try compileC("int runtime_helper(void) { return \(value); }")
      try? FileManager.default.removeItem(atPath: archive)
      try TestSupport.shell("ar rcs '\(archive)' '\(member)'")
    }
    try makeArchive(returning: 7)
    let path = try compileC(
      "extern int runtime_helper(void); int main(void) { return runtime_helper(); }")
    func linked() throws -> LoadedModule {
      var options = LinkOptions(providers: [try HostSymbolProvider(libraries: [])])
      options.cache = cache
      options.runtimeArchives = [
        RuntimeArchive(name: "libhelper.a") {
          if case .archive(let archive)? = try? LinkInput.read(archive) { archive } else { nil }
        }
      ]
      return try ModuleLinker(options: options).link(contentsOf: [path])
    }
    let changed = CacheOutcome.stored(missed: "'\(archive)' changed since the entry was made")
    #expect(try linked().statistics.cache == .stored(missed: "no entry"))
    let hit = try linked()
    #expect(hit.statistics.cache == .hit)
    #expect(hit.callMain("main", arguments: []) == 7)
    // Other bytes (the same size: only the immediate differs), in a new file.
    try makeArchive(returning: 8)
    let relinked = try linked()
    #expect(relinked.statistics.cache == changed)
    #expect(relinked.callMain("main", arguments: []) == 8)
    #expect(try linked().statistics.cache == .hit)
    // The same bytes, a new modification time.
    try TestSupport.shell("touch -d '2001-02-03 04:05:06.789' '\(archive)'")
    #expect(try linked().statistics.cache == changed)
    #expect(try linked().statistics.cache == .hit)
  }

  /// With a static TLS reservation `__tls_get_addr` is the linker's (over its own TLS indexes),
  /// without one glibc's. A module that uses no thread-local storage itself is cached (one that
  /// does never is), so the reservation is in the key, and a hit binds it as a link does.
  @Test("a module naming __tls_get_addr is cached apart with and without a TLS reservation")
  func threadLocalReservation() throws {
    let cache = try temporaryCache()
    let path = try compileC(
      "extern void *__tls_get_addr(void *); void *(*volatile get)(void *) = __tls_get_addr; "
        + "int main(void) { return get == 0; }")
    func linked(reservation: Bool) throws -> LoadedModule {
      var options = LinkOptions(providers: [try HostSymbolProvider(libraries: [])])
      options.cache = cache
      if reservation {
        options.threadLocalStorage = StaticTLS(
          threadPointerOffset: -0x2_0000, size: 0x1000, alignment: 64,
          initializer: DiscardedThreadLocalValues())
      }
      return try ModuleLinker(options: options).link(contentsOf: [path])
    }
    let fresh = try linked(reservation: true)
    #expect(fresh.statistics.cache == .stored(missed: "no entry"))
    let linkers = try #require(fresh.externals["__tls_get_addr"])
    #expect(linkers.provider == "linker")
    let hit = try linked(reservation: true)
    #expect(hit.statistics.cache == .hit)
    #expect(hit.externals["__tls_get_addr"]?.address == linkers.address)
    let get = try #require(hit.objectAddress(named: "get"))
    #expect(hit.load(UInt64.self, at: get) == linkers.address)
    let without = try linked(reservation: false)
    #expect(without.statistics.cache == .stored(missed: "no entry"))
    #expect(without.externals["__tls_get_addr"]?.provider == "host")
  }

  @Test("a damaged or truncated entry is a miss, never a crash")
  func damaged() throws {
    let cache = try temporaryCache()
    let path = try compileC("int x = 3; int main(void) { return x; }")
    _ = try link([path], cache: cache)
    let entries = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
      .filter { $0.hasSuffix(".lkmimg") }
    #expect(entries.count == 1)
    let entry = cache.directory + "/" + entries[0]
    let original = try Data(contentsOf: URL(fileURLWithPath: entry))
    // The header and metadata are checked (a checksum); the padding after them is not read.
    let metaEnd =
      unsafe 64
      + original.withUnsafeBytes {
        unsafe Int($0.loadUnaligned(fromByteOffset: 48, as: UInt64.self))
      }
    var variants: [(label: String, bytes: Data, checked: Bool)] = []
    for offset in stride(from: 0, to: min(original.count, 4096), by: 53) {
      var copy = original
      copy[offset] ^= 0x5a
      variants.append(("byte \(offset) flipped", copy, offset < metaEnd))
    }
    for length in [0, 7, 63, 64, 200, original.count / 2, original.count - 1] {
      variants.append(("\(length) bytes", original.prefix(length), true))
    }
    #expect(variants.filter(\.checked).count > 10)
    for (label, bytes, checked) in variants {
      try bytes.write(to: URL(fileURLWithPath: entry))
      let module = try link([path], cache: cache)
      if checked { #expect(module.statistics.cache != .hit, "\(label)") }
      #expect(module.callMain("main", arguments: []) == 3, "\(label)")
    }
  }

  @Test("links storing the same entry at once all succeed, and the entry is whole")
  func concurrentStores() throws {
    let cache = try temporaryCache()
    let path = try compileC("static int t[1000] = {1}; int main(void) { return t[0] + 6; }")
    let host = try HostSymbolProvider(libraries: [])
    nonisolated(unsafe) var results = [Int32?](repeating: nil, count: 8)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: 8) { i in
      let value = (try? link([path], cache: cache, providers: [host]))?.callMain(
        "main", arguments: [])
      lock.lock()
      unsafe results[i] = value
      lock.unlock()
    }
    unsafe #expect(results == [Int32?](repeating: 7, count: 8))
    let names = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
    #expect(!names.contains { $0.hasPrefix(".tmp-") }, "\(names)")
    let module = try link([path], cache: cache, providers: [host])
    #expect(module.statistics.cache == .hit)
    #expect(module.callMain("main", arguments: []) == 7)
  }

  @Test("the cache keeps within its size, dropping the least recently used entries")
  func bounded() throws {
    // Entries of about 1 MiB of read-only data each (no zeros to leave as holes); room for
    // about three.
    let cache = try temporaryCache(sizeLimit: 3 << 20 + 512 << 10)
    var paths: [String] = []
    for k in 0..<5 {
      let letter = String(repeating: String(UnicodeScalar(UInt8(97 + k))), count: 1 << 20)
      paths.append(
        try compileC(
          "const char blob[] = \"\(letter)\"; int main(void) { return blob[4095] - 96; }"))
    }
    /// The disk space of the directory's files (du counts allocated blocks, as eviction does).
    func used() throws -> Int {
      let text = try TestSupport.shell("du -s --block-size=1 '\(cache.directory)'")
      return Int(text.prefix { $0.isNumber }) ?? .max
    }
    for (k, path) in paths.enumerated() {
      #expect(try link([path], cache: cache).callMain("main", arguments: []) == Int32(k + 1))
      let bytes = try used()
      let names = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
      #expect(bytes <= cache.sizeLimit, "\(bytes) bytes: \(names)")
      // The newest entry is kept.
      #expect(try link([path], cache: cache).statistics.cache == .hit)
    }
    #expect(try link([paths[0]], cache: cache).statistics.cache != .hit)
  }
}
