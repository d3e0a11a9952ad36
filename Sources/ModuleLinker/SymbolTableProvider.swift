/// Symbols from a list: a symbol file (`modload -A`), or any table a caller builds.
///
/// The file format is one symbol a line, `ADDRESS TYPE NAME [MODULE]`, as `lkmctl ksyms`,
/// `nm` and `/proc/kallsyms` print it: ADDRESS in hex, TYPE a letter (`T`/`t` code, `D`/`d`,
/// `B`/`b`, `R`/`r`, `A`... data; `U`/`w`/`v` lines without an address are skipped), MODULE
/// optionally in brackets.
public final class SymbolTableProvider: SymbolProvider, @unchecked Sendable {
  public struct Entry: Sendable {
    public var address: UInt64
    public var type: Character
    public var name: String
    public var module: String?
  }

  public let providerName: String
  public let entries: [Entry]
  private let byName: [String: Int]

  public init(name: String, entries: [Entry]) {
    providerName = name
    self.entries = entries
    var index: [String: Int] = [:]
    for (i, e) in entries.enumerated() where index[e.name] == nil { index[e.name] = i }
    byName = index
  }

  /// Parses a symbol file.
  ///
  /// - Throws: ``LinkError`` naming the file and the line of the first bad line.
  public convenience init(parsing text: String, file: String) throws(LinkError) {
    var entries: [Entry] = []
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingWhitespace()
      if line.isEmpty || line.hasPrefix("#") { continue }
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      func bad(_ why: String) -> LinkError {
        LinkError(.malformedInput, "\(file):\(n + 1): \(why): '\(line)'")
      }
      // nm prints undefined symbols without an address: "U name", "w name".
      if fields.count == 2, fields[0].count == 1, "Uwv".contains(fields[0]) { continue }
      guard fields.count == 3 || fields.count == 4 else {
        throw bad("expected 'ADDRESS TYPE NAME [MODULE]'")
      }
      guard
        let address = UInt64(
          fields[0].hasPrefix("0x") ? fields[0].dropFirst(2) : fields[0], radix: 16)
      else { throw bad("'\(fields[0])' is not a hexadecimal address") }
      guard fields[1].count == 1, let type = fields[1].first, type.isLetter || type == "?" else {
        throw bad("'\(fields[1])' is not a symbol type letter")
      }
      var module: String?
      if fields.count == 4 {
        var m = fields[3]
        if m.hasPrefix("[") && m.hasSuffix("]") { m = m.dropFirst().dropLast() }
        module = String(m)
      }
      entries.append(Entry(address: address, type: type, name: String(fields[2]), module: module))
    }
    self.init(name: file, entries: entries)
  }

  public func lookup(_ name: String) -> ProvidedSymbol? {
    guard let i = byName[name] else { return nil }
    let e = entries[i]
    if "Uwv".contains(e.type) { return nil }
    return ProvidedSymbol(
      address: e.address,
      isFunction: e.type == "T" || e.type == "t" || e.type == "W" || e.type == "i")
  }

  /// Every name, for suggestions.
  public var names: [String] { entries.map(\.name) }
}

extension Substring {
  func trimmingWhitespace() -> Substring {
    var s = self
    while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
    while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
    return s
  }
}

/// "Did you mean" advice for an undefined symbol: a known name at a small edit distance, the
/// same name in another case, or with a leading underscore more or less.
public enum SymbolSuggestion {
  public static func nearest(to name: String, in candidates: some Sequence<String>) -> String? {
    let lower = name.lowercased()
    let bare = name.drop(while: { $0 == "_" })
    var best: (String, Int)?
    let limit = name.count <= 4 ? 1 : 2
    for candidate in candidates where candidate != name {
      var score: Int
      if candidate.lowercased() == lower || candidate.drop(while: { $0 == "_" }) == bare {
        score = 0
      } else {
        guard abs(candidate.count - name.count) <= limit else { continue }
        score = editDistance(name, candidate, limit: limit)
        guard score <= limit else { continue }
      }
      if best == nil || score < best!.1 || (score == best!.1 && candidate < best!.0) {
        best = (candidate, score)
      }
    }
    return best?.0
  }

  /// Edit distance counting a swap of two adjacent characters as one edit (optimal string
  /// alignment: `prinft` is one edit from `printf`, two from `lrint`), giving up (returning
  /// limit + 1) past `limit`.
  static func editDistance(_ a: String, _ b: String, limit: Int) -> Int {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var beforePrevious: [Int] = []
    var previous = Array(0...y.count)
    for i in 1...max(x.count, 1) where !x.isEmpty {
      var current = [i] + [Int](repeating: 0, count: y.count)
      var rowMin = current[0]
      for j in 1...max(y.count, 1) where !y.isEmpty {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
          current[j] = min(current[j], beforePrevious[j - 2] + 1)
        }
        rowMin = min(rowMin, current[j])
      }
      if rowMin > limit { return limit + 1 }
      beforePrevious = previous
      previous = current
    }
    return x.isEmpty ? y.count : previous[y.count]
  }
}
