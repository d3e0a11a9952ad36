public import Foundation
public import Testing

/// modstat's output with the addresses masked, and the fields of each row.
public struct ModstatListing {
  public struct Row {
    public var id: Int
    public var offset: Int
    public var area: UInt64
    public var pages: UInt64
    public var info: UInt64
    public var name: String
  }

  public static let header =
    "Type     Id Off Loadaddr         Size Info             Rev Module Name\n"
  public static let mask = "################"

  /// The text with Loadaddr, Size and Info replaced by `#`s of the same width.
  public var masked = ""
  public var rows: [Row] = []
  /// Rows that do not have OpenBSD's format (`%-7s %3d %3ld %016lx %04lx %016lx %3ld %s`).
  public var malformed: [String] = []

  public init(_ text: String) {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    for (index, line) in lines.enumerated() {
      if index == 0 {
        masked += line + "\n"
        continue
      }
      let format =
        #/(?<type>[A-Z][A-Z ]{6}) (?<id> {0,2}[0-9]+) (?<off> {0,2}-?[0-9]+) (?<area>[0-9a-f]{16}) (?<size>[0-9a-f]{4}) (?<info>[0-9a-f]{16}) (?<rev> {0,2}[0-9]+) (?<name>.*)/#
      guard let m = line.wholeMatch(of: format), m.type.count == 7, m.id.count >= 3,
        m.off.count >= 3,
        m.rev.count >= 3
      else {
        malformed.append(line)
        masked += line + "\n"
        continue
      }
      rows.append(
        Row(
          id: Int(m.id.trimmingCharacters(in: .whitespaces))!,
          offset: Int(m.off.trimmingCharacters(in: .whitespaces))!,
          area: UInt64(m.area, radix: 16)!,
          pages: UInt64(m.size, radix: 16)!, info: UInt64(m.info, radix: 16)!, name: String(m.name))
      )
      masked += "\(m.type) \(m.id) \(m.off) \(Self.mask) ssss \(Self.mask) \(m.rev) \(m.name)\n"
    }
  }

  /// Checks what the masks hide: a page-aligned load address, at least one page, and the
  /// module's declaration (Info) inside its image.
  public func expectConsistent(sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
      malformed.isEmpty, "rows not in modstat's format: \(malformed)",
      sourceLocation: sourceLocation)
    for row in rows {
      #expect(
        row.area % 4096 == 0 && row.area != 0, "load address \(row.area)",
        sourceLocation: sourceLocation)
      #expect(row.pages >= 1, "size \(row.pages) pages", sourceLocation: sourceLocation)
      #expect(
        row.info >= row.area && row.info < row.area + row.pages * 4096,
        "Info \(String(row.info, radix: 16)) outside the image at \(String(row.area, radix: 16))",
        sourceLocation: sourceLocation)
    }
  }
}

/// A masked modstat row, as the tests write the expected listing.
public func modstatRow(_ type: String, _ id: Int, _ offset: Int, _ name: String) -> String {
  let typeField = type.padding(toLength: 7, withPad: " ", startingAt: 0)
  let idField = String(repeating: " ", count: max(0, 3 - String(id).count)) + String(id)
  let offField = String(repeating: " ", count: max(0, 3 - String(offset).count)) + String(offset)
  let m = ModstatListing.mask
  return "\(typeField) \(idField) \(offField) \(m) ssss \(m)   2 \(name)\n"
}

extension String {
  /// modstat output with the load address, size and info columns replaced, for exact
  /// comparison: `DEV       0  11 ADDRESS SIZE INFO   2 rot13`.
  public var maskedAddresses: String {
    replacingOccurrences(
      of: "[0-9a-f]{16} [0-9a-f]{4} [0-9a-f]{16}", with: "ADDRESS SIZE INFO",
      options: .regularExpression)
  }
}
