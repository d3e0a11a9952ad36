import ELFObject
import Foundation
import ModuleLinker
import TestSupport
import Testing

@Suite("Link inputs, parsed once")
struct LinkInputTests {
  @Test("an object answers which globals it defines and its symbol table's size")
  func object() throws {
    let path = try compileC(
      "int shared = 1; static int hidden; int main(void) { return shared + hidden; }")
    let bytes = try FileBytes(contentsOf: path)
    let input = try LinkInput.parse(inPlace: bytes)
    #expect(input.defines("main") && input.defines("shared"))
    #expect(!input.defines("hidden") && !input.defines("mai") && !input.defines("printf"))
    let object = try #require(input.object)
    #expect(input.symbolTableSize == object.symbols.count * 24 && input.symbolTableSize > 0)
  }

  @Test("an archive answers from its index, without parsing its members")
  func archive() throws {
    let input = try LinkInput.read("/usr/lib/x86_64-linux-gnu/libsqlite3.a")
    #expect(input.defines("sqlite3_open") && !input.defines("sqlite3_no_such_function"))
    #expect(input.object == nil && input.symbolTableSize == 0)
    guard case .archive(let archive) = input else { return }
    #expect(archive.symbolIndex["sqlite3_open"]?.count == 1)
  }
}
