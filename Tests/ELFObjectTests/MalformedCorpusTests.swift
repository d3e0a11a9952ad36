import ELFObject
import Foundation
import TestSupport
import Testing

/// One line of `Fixtures/malformed/expected.tsv` (written by `scripts/make-malformed.py`).
struct MalformedCase: Sendable, CustomTestStringConvertible {
  enum Stage: String, Sendable { case reader, linker, valid }
  /// The file's name in `Fixtures/malformed`.
  var file: String
  var stage: Stage
  /// The `ELFError.Code` (reader) or `LinkError.Code` (linker) raw value; `-` for controls.
  var code: String
  /// The whole message, `FILE: problem` for reader files.
  var message: String

  var testDescription: String { file }

  static let directory = TestSupport.fixture("malformed")

  /// Every case, in file order.
  static let all: [MalformedCase] = {
    guard
      let text = try? String(contentsOfFile: directory + "/expected.tsv", encoding: .utf8)
    else { return [] }
    return text.split(separator: "\n").compactMap { line in
      guard !line.hasPrefix("#") else { return nil }
      let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false)
      guard fields.count == 4, let stage = Stage(rawValue: String(fields[1])) else {
        return MalformedCase(file: "unparsable line: \(line)", stage: .valid, code: "", message: "")
      }
      return MalformedCase(
        file: String(fields[0]), stage: stage, code: String(fields[2]), message: String(fields[3]))
    }
  }()

  static let refused = all.filter { $0.stage == .reader }
  static let accepted = all.filter { $0.stage != .reader }

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
