public import Foundation
public import Testing

/// A corpus's expectations: a tab-separated file under Fixtures/ (`Fixtures/malformed/expected.tsv`,
/// `Fixtures/sandbox/findings/expected.tsv`), `#` lines being comments.
public struct FixtureTable: Sendable {
  /// The fields of each line that is not a comment, in file order; a line with fewer fields
  /// than the table has columns is kept whole in ``unparsable``.
  public var rows: [[String]] = []
  public var unparsable: [String] = []

  /// Reads `Fixtures/<path>`, splitting each line into at most `columns` fields (the last
  /// keeps any tabs). A missing file is an empty table.
  public init(_ path: String, columns: Int) {
    guard let text = try? String(contentsOfFile: TestSupport.fixture(path), encoding: .utf8)
    else { return }
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let fields = line.split(
        separator: "\t", maxSplits: columns - 1, omittingEmptySubsequences: false
      ).map(String.init)
      if fields.count == columns { rows.append(fields) } else { unparsable.append(String(line)) }
    }
  }
}

/// One line of `Fixtures/malformed/expected.tsv` (written by `scripts/make-malformed.py`).
public struct MalformedCase: Sendable, CustomStringConvertible, CustomTestStringConvertible {
  public enum Stage: String, Sendable {
    /// ObjectFile or Archive refuses the file with an `ELFError`.
    case reader
    /// The reader accepts the file and the link refuses it with a `LinkError`.
    case linker
    /// A control: it links.
    case valid
  }
  /// The file's name in `Fixtures/malformed`.
  public var file: String
  public var stage: Stage
  /// The `ELFError.Code` (reader) or `LinkError.Code` (linker) raw value; `-` for controls.
  public var code: String
  /// The whole message (`FILE: problem` for reader files): what `lkmrun -n FILE` prints on
  /// stderr after `lkmrun: `.
  public var message: String

  public var description: String { file }
  public var testDescription: String { file }

  /// The corpus's directory.
  public static let directory = TestSupport.fixture("malformed")

  /// Every case, in file order. A line that does not parse becomes a case named
  /// `unparsable line: …` with the `valid` stage, which every test of the corpus then fails.
  public static let all: [MalformedCase] = {
    let table = FixtureTable("malformed/expected.tsv", columns: 4)
    var cases = table.rows.map { fields in
      guard let stage = Stage(rawValue: fields[1]) else {
        return MalformedCase(
          file: "unparsable line: \(fields.joined(separator: "\t"))", stage: .valid, code: "",
          message: "")
      }
      return MalformedCase(file: fields[0], stage: stage, code: fields[2], message: fields[3])
    }
    cases += table.unparsable.map {
      MalformedCase(file: "unparsable line: \($0)", stage: .valid, code: "", message: "")
    }
    return cases
  }()

  /// The files the reader refuses.
  public static let refused = all.filter { $0.stage == .reader }
  /// The files the reader accepts: those only the linker refuses, and the controls.
  public static let accepted = all.filter { $0.stage != .reader }
}
