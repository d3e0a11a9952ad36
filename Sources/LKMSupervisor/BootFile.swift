// lkmd --boot FILE: the modules loaded at every boot of the kernel, as OpenBSD's rc scripts
// ran modload. One modload command line per line.
import LKMInterface

/// One line of the boot file: a load.
struct BootLoad: Sendable, Equatable {
  /// The line as written (for messages).
  var line: String
  var lineNumber: Int
  var files: [String]
  var entry: String?
  var exportSymbols: Bool
}

enum BootFile {
  /// Parses the boot file: blank lines and `#` comments are skipped; every other line is
  /// `modload [-s] [-e entry] [-d] [-v] input_file ...` (the word modload may be left out).
  /// Relative paths are relative to the file's directory.
  ///
  /// - Throws: ``SupervisorError`` naming the file and line for a line it cannot use.
  static func parse(_ text: String, path: String) throws(SupervisorError) -> [BootLoad] {
    let base = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
      .joined(separator: "/")
    var loads: [BootLoad] = []
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingSpaces
      if line.isEmpty || line.hasPrefix("#") { continue }
      func problem(_ what: String) -> SupervisorError {
        SupervisorError("\(path):\(index + 1): \(what)")
      }
      var words = try words(of: line, problem: problem)
      if words.first == "modload" { words.removeFirst() }
      var load = BootLoad(
        line: line, lineNumber: index + 1, files: [], entry: nil, exportSymbols: true)
      var i = 0
      while i < words.count {
        let word = words[i]
        if word == "-s" {
          load.exportSymbols = false
        } else if word == "-d" || word == "-v" {
          // Debug output and -v's "reserving" line have no terminal at boot.
        } else if word == "-e" {
          i += 1
          guard i < words.count else { throw problem("-e needs an entry name") }
          load.entry = words[i]
        } else if word.hasPrefix("-e") {
          load.entry = String(word.dropFirst(2))
        } else if word.hasPrefix("-") {
          throw problem("modload option \(word) is not supported at boot (only -e, -s, -d, -v)")
        } else {
          load.files.append(word.hasPrefix("/") || base.isEmpty ? word : "\(base)/\(word)")
        }
        i += 1
      }
      guard let first = load.files.first else { throw problem("no input file") }
      guard first.hasSuffix(".o") else { throw problem("module object must end in .o") }
      loads.append(load)
    }
    return loads
  }

  /// Words split at spaces, with '…' and "…" quoting.
  static func words(of line: String, problem: (String) -> SupervisorError) throws(SupervisorError)
    -> [String]
  {
    var words: [String] = []
    var current = ""
    var quote: Character?
    var inWord = false
    for c in line {
      if let q = quote {
        if c == q { quote = nil } else { current.append(c) }
      } else if c == "'" || c == "\"" {
        quote = c
        inWord = true
      } else if c == " " || c == "\t" {
        if inWord { words.append(current) }
        current = ""
        inWord = false
      } else {
        current.append(c)
        inWord = true
      }
    }
    if quote != nil { throw problem("unterminated quote") }
    if inWord { words.append(current) }
    return words
  }
}

extension Substring {
  var trimmingSpaces: String {
    String(
      drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop {
        $0 == " " || $0 == "\t" || $0 == "\r"
      }.reversed())
  }
}
