import ELFObject
import Foundation
import ModuleLinker
import TestSupport
import Testing

@Suite("Module lifecycle", .serialized)
struct LifecycleTests {
  static let sqliteArchive = "/usr/lib/x86_64-linux-gnu/libsqlite3.a"

  static func sqliteDriver() throws -> String {
    try compileC(
      """
      #include <sqlite3.h>
      int run(void) {
        sqlite3 *db; sqlite3_stmt *st; int n = -1;
        if (sqlite3_open(":memory:", &db)) return -1;
        sqlite3_exec(db, "create table t(a); insert into t values(1),(2),(3);", 0, 0, 0);
        sqlite3_prepare_v2(db, "select sum(a) from t", -1, &st, 0);
        if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
      }
      int main(void) { return run(); }
      """)
  }

  @Test(
    "loading and unloading the sqlite module 1,000 times leaves memory and mappings as they were")
  func noLeaks() throws {
    // In a process of its own (lkmbench), so that other tests running in parallel do not move
    // this process's resident size or mappings.
    let driver = try Self.sqliteDriver()
    let result = try TestSupport.run(
      TestSupport.product("lkmbench"),
      ["-n", "1000", "-w", "20", "--footprint", driver, Self.sqliteArchive])
    #expect(result.status == 0 && !result.signaled, "\(result)")
    func field(_ name: String) -> Int? {
      guard let range = result.stdout.range(of: "\"\(name)\":") else { return nil }
      return Int(result.stdout[range.upperBound...].prefix { $0.isNumber })
    }
    let mapsBefore = try #require(field("maps_before"))
    let mapsAfter = try #require(field("maps_after"))
    let rssBefore = try #require(field("rss_before_kb"))
    let rssAfter = try #require(field("rss_after_kb"))
    #expect(mapsAfter <= mapsBefore, "mappings grew from \(mapsBefore) to \(mapsAfter)")
    // One sqlite image is about 1.2 MB: leaking one a load would be over a gigabyte.
    #expect(
      rssAfter <= rssBefore + 2048, "resident memory grew from \(rssBefore) KiB to \(rssAfter) KiB")
  }

  @Test("a module loaded after another was dropped starts from its own bytes and zeros")
  func freshPagesAfterDrop() throws {
    // A dropped module's pages are kept for the next link of about its size (cleared): each
    // module here must see zeros in .bss and its own initial data, not what the one before
    // wrote there.
    let path = try compileC(
      """
      int counter; int table[8192]; int initialized = 7;
      int main(void) {
        int sum = counter + initialized;
        for (int i = 0; i < 8192; i++) { sum += table[i]; table[i] = i + 1; }
        counter = 100; initialized = 50;
        return sum;
      }
      """)
    for round in 0..<5 {
      let module = try link([path])
      #expect(module.callMain("main", arguments: []) == 7, "round \(round)")
    }
  }

  @Test(
    "an IFUNC defined in the module is resolved once at load, for calls, pointers and GOT loads")
  func ifunc() throws {
    let path = try compileC(
      """
      static int impl_a(void) { return 40; }
      static int impl_b(void) { return 2; }
      int resolved_count;
      static void *resolve_pick(void) { resolved_count++; return (void *)impl_a; }
      int pick(void) __attribute__((ifunc("resolve_pick")));
      int (*const table[])(void) = { pick };
      int main(void) { return pick() + (table[0] == pick) + impl_b() - 1 + resolved_count * 100; }
      """, flags: "-O0 -fPIC")
    let module = try link([path])
    // 40 + 1 + 2 - 1, resolver called exactly once.
    #expect(module.callMain("main", arguments: []) == 142)
  }

  @Test("constructors run by priority, then unprioritised; destructors in reverse")
  func constructorOrder() throws {
    let path = try compileC(
      """
      char order[16]; int n;
      __attribute__((constructor(200))) static void c200(void) { order[n++] = 'b'; }
      __attribute__((constructor)) static void cplain(void) { order[n++] = 'c'; }
      __attribute__((constructor(101))) static void c101(void) { order[n++] = 'a'; }
      __attribute__((destructor(101))) static void d101(void) { order[n++] = 'z'; }
      __attribute__((destructor)) static void dplain(void) { order[n++] = 'x'; }
      __attribute__((destructor(200))) static void d200(void) { order[n++] = 'y'; }
      int main(void) { return n; }
      """)
    let module = try link([path])
    module.runInitializers()
    #expect(module.callMain("main", arguments: []) == 3)
    module.runFinalizers()
    let order = try #require(module.exports["order"])
    let bytes = module.bytes(at: order, count: 6)
    #expect(String(decoding: bytes, as: UTF8.self) == "abcxyz")
  }
}
