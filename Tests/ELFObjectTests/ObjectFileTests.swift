import ELFObject
import Foundation
import TestSupport
import Testing

@Suite("Reading objects")
struct ObjectFileTests {
  @Test("a compiled object's sections, symbols and relocations are read")
  func readsCompiledObject() throws {
    let dir = try TestSupport.temporaryDirectory("elf")
    try "int g = 1; static int s; int f(void) { return g + s; }".write(
      toFile: dir + "/a.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c -O2 a.c -o a.o", directory: dir)
    let object = try ObjectFile(path: dir + "/a.o")
    #expect(object.sections.contains { $0.name == ".text" && $0.isExecutable })
    let names = object.symbols.indices.map { object.symbolName($0) }
    #expect(names.contains("g") && names.contains("f"))
    #expect(object.relocationSections.contains { object.sections[$0.target].name == ".text" })
  }

  @Test("an archive's index names its members")
  func readsArchive() throws {
    let archive = try Archive(path: "/usr/lib/x86_64-linux-gnu/libsqlite3.a")
    #expect(archive.members.count > 50)
    let holder = try #require(archive.symbolIndex["sqlite3_open"]?.first)
    let object = try archive.object(at: holder)
    #expect(object.name.hasPrefix("/usr/lib/x86_64-linux-gnu/libsqlite3.a("))
  }

  @Test("a file that is not ELF is refused with its name")
  func notELF() throws {
    let dir = try TestSupport.temporaryDirectory("elf")
    try "hello world, not an object".write(toFile: dir + "/x.o", atomically: true, encoding: .utf8)
    let error = #expect(throws: ELFError.self) { try ObjectFile(path: dir + "/x.o") }
    #expect(error?.description == "\(dir)/x.o: not an ELF file (bad magic)")
  }
}
