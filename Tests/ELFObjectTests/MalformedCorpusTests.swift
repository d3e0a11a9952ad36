import ELFObject
import Foundation
import TestSupport
import Testing

extension MalformedCase {
  /// The file's bytes, named as `lkmrun` names a file passed by its bare name.
  func bytes() throws -> FileBytes {
    let data = try Data(contentsOf: URL(fileURLWithPath: Self.directory + "/" + file))
    return FileBytes(data, name: file)
  }
}

/// Reads `bytes` as `LinkInput.read` does (an archive if it has the ar magic), then parses
/// every archive member, so that anything the reader can refuse is refused.
private func readCompletely(_ bytes: FileBytes) throws(ELFError) {
  if Archive.isArchive(bytes) {
    let archive = try Archive(bytes: bytes)
    for index in archive.members.indices { _ = try archive.object(at: index) }
  } else {
    _ = try ObjectFile(bytes: bytes, offset: 0, count: bytes.count, name: bytes.name)
  }
}

@Suite("Malformed corpus: the reader")
struct MalformedCorpusTests {
  @Test("the corpus and its expectations are present and consistent")
  func corpusIsComplete() throws {
    #expect(MalformedCase.all.count >= 100)
    let files = try FileManager.default.contentsOfDirectory(atPath: MalformedCase.directory)
      .filter { $0.hasSuffix(".o") || $0.hasSuffix(".a") }
    #expect(Set(files) == Set(MalformedCase.all.map(\.file)))
    for entry in MalformedCase.refused {
      #expect(ELFError.Code(rawValue: entry.code) != nil, "\(entry.file): code \(entry.code)")
    }
  }

  @Test("a malformed file is refused with its exact message", arguments: MalformedCase.refused)
  func refused(_ entry: MalformedCase) throws {
    let bytes = try entry.bytes()
    let error = #expect(throws: ELFError.self) { try readCompletely(bytes) }
    #expect(error?.description == entry.message)
    #expect(error?.code.rawValue == entry.code)
  }

  @Test(
    "a file only the linker refuses, or a control, is read without error",
    arguments: MalformedCase.accepted)
  func accepted(_ entry: MalformedCase) throws {
    let bytes = try entry.bytes()
    #expect(throws: Never.self) { try readCompletely(bytes) }
  }
}
