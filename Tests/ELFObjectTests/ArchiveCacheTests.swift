import ELFObject
import Foundation
import TestSupport
import Testing

/// Builds `name` in `dir` from one object per C source, with `ar rcs` (so with an index).
private func makeArchive(_ dir: String, _ name: String, _ sources: [String]) throws {
  var objects: [String] = []
  for (k, source) in sources.enumerated() {
    try source.write(toFile: "\(dir)/m\(k).c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c -O2 m\(k).c -o m\(k).o", directory: dir)
    objects.append("m\(k).o")
  }
  try TestSupport.shell(
    "rm -f \(name) && ar rcs \(name) \(objects.joined(separator: " "))", directory: dir)
}

/// Whether the archive's index names `symbol`.
private func defines(_ archive: Archive, _ symbol: String) -> Bool {
  archive.symbolIndex[symbol] != nil
}

@Suite("The per-process cache of archives")
struct ArchiveCacheTests {
  @Test("an archive read again unchanged is the same archive, its parsed members too")
  func hit() throws {
    let dir = try TestSupport.temporaryDirectory("arcache")
    try makeArchive(
      dir, "lib.a", ["int alpha(void) { return 1; }", "int beta(void) { return 2; }"])
    let cache = ArchiveCache(capacity: 4, minimumAge: 0)
    let first = try cache.archive(bytes: FileBytes(contentsOf: dir + "/lib.a"))
    let member = try first.object(at: 0)
    #expect(cache.count == 1)
    let again = try #require(cache.archive(path: dir + "/lib.a"))
    #expect(again === first)
    #expect(try again.object(at: 0) === member)
    let mapped = try cache.archive(bytes: FileBytes(contentsOf: dir + "/lib.a"))
    #expect(mapped === first)
    // Another path to the same file is another entry (messages name the path given).
    let other = try cache.archive(bytes: FileBytes(contentsOf: dir + "/./lib.a"))
    #expect(other !== first && other.name == dir + "/./lib.a")
  }

  @Test("an archive rewritten in place, same size and inode, is read again")
  func rewrittenInPlace() throws {
    let dir = try TestSupport.temporaryDirectory("arcache")
    let path = dir + "/lib.a"
    try makeArchive(dir, "lib.a", ["int alpha(void) { return 1; }"])
    try makeArchive(dir, "new.a", ["int gamma(void) { return 1; }"])
    let newBytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/new.a"))
    let oldSize = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
    #expect(oldSize == newBytes.count)
    // Old enough to be kept with the process's rule (its status changed over a second ago).
    Thread.sleep(forTimeInterval: 1.2)
    let cache = ArchiveCache(capacity: 4, minimumAge: 1_000_000_000)
    let before = try cache.archive(bytes: FileBytes(contentsOf: path))
    #expect(defines(before, "alpha") && cache.count == 1)
    #expect(cache.archive(path: path) === before)
    let inode = FileIdentity.of(path)?.inode

    // The same bytes' length written over the old ones: no truncation, no new inode.
    let handle = try #require(FileHandle(forWritingAtPath: path))
    handle.write(newBytes)
    try handle.close()
    #expect(FileIdentity.of(path)?.inode == inode)
    #expect(FileIdentity.of(path)?.size == Int64(newBytes.count))

    #expect(cache.archive(path: path) == nil)
    let after = try cache.archive(bytes: FileBytes(contentsOf: path))
    #expect(after !== before)
    #expect(defines(after, "gamma") && !defines(after, "alpha"))
  }

  @Test("an archive replaced by another file is read again")
  func replaced() throws {
    let dir = try TestSupport.temporaryDirectory("arcache")
    let path = dir + "/lib.a"
    try makeArchive(dir, "lib.a", ["int alpha(void) { return 1; }"])
    let cache = ArchiveCache(capacity: 4, minimumAge: 0)
    let before = try cache.archive(bytes: FileBytes(contentsOf: path))
    try makeArchive(dir, "new.a", ["int delta(void) { return 4; }"])
    try TestSupport.shell("mv new.a lib.a", directory: dir)
    #expect(cache.archive(path: path) == nil)
    let after = try cache.archive(bytes: FileBytes(contentsOf: path))
    #expect(after !== before && defines(after, "delta") && !defines(after, "alpha"))
    #expect(cache.count == 1)
  }

  @Test("an archive that changed less than the minimum age ago is not kept")
  func tooRecent() throws {
    let dir = try TestSupport.temporaryDirectory("arcache")
    try makeArchive(dir, "lib.a", ["int alpha(void) { return 1; }"])
    let cache = ArchiveCache(capacity: 4, minimumAge: 60_000_000_000)
    let first = try cache.archive(bytes: FileBytes(contentsOf: dir + "/lib.a"))
    let second = try cache.archive(bytes: FileBytes(contentsOf: dir + "/lib.a"))
    #expect(first !== second && cache.count == 0)
    #expect(cache.archive(path: dir + "/lib.a") == nil)
  }

  @Test("the least recently used archive goes first")
  func bounded() throws {
    let dir = try TestSupport.temporaryDirectory("arcache")
    for k in 0..<3 { try makeArchive(dir, "l\(k).a", ["int f\(k)(void) { return \(k); }"]) }
    let cache = ArchiveCache(capacity: 2, minimumAge: 0)
    let a0 = try cache.archive(bytes: FileBytes(contentsOf: dir + "/l0.a"))
    _ = try cache.archive(bytes: FileBytes(contentsOf: dir + "/l1.a"))
    #expect(cache.archive(path: dir + "/l0.a") === a0)  // l0 used last: l1 goes
    _ = try cache.archive(bytes: FileBytes(contentsOf: dir + "/l2.a"))
    #expect(cache.count == 2)
    #expect(cache.archive(path: dir + "/l0.a") === a0)
    #expect(cache.archive(path: dir + "/l1.a") == nil)
    #expect(cache.archive(path: dir + "/l2.a") != nil)
  }

  @Test("a malformed archive is refused every time, and not kept")
  func malformed() throws {
    let dir = try TestSupport.temporaryDirectory("arcache")
    try "!<arch>\nshort".write(toFile: dir + "/bad.a", atomically: true, encoding: .utf8)
    let cache = ArchiveCache(capacity: 4, minimumAge: 0)
    for _ in 0..<2 {
      #expect(throws: ELFError.self) {
        try cache.archive(bytes: FileBytes(contentsOf: dir + "/bad.a"))
      }
    }
    #expect(cache.count == 0)
  }
}
