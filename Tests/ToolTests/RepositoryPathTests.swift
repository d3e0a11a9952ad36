import Foundation
import TestSupport
import Testing

/// Every repository file a comment or a document names exists: paths from the repository's
/// top directories (`Sources/…`, `Tests/…`, `Fixtures/…`, `scripts/…`, `docs/…`, `man/…`) and
/// bare file names (`Kernel+Load.swift`, `kern_lkm.c`, `clkm.h`, `README.md`) in the comments
/// of Sources/, Tests/ and scripts/, and anywhere in README.md and docs/.
///
/// Not checked: names inside `<…>` (system headers), names after a `/` that is not a repository
/// path (`sys/kern/kern_lkm.c` is OpenBSD's, `../shared/reference/x.md` is outside the
/// repository), globs and placeholders (`Device*Tests.swift`, `<kind>.s`, `SOURCE`), and the
/// names in ``RepositoryReferences/elsewhere``.
enum RepositoryReferences {
  /// The top directories whose paths are checked.
  static let roots = ["Sources", "Tests", "Fixtures", "scripts", "docs", "man", ".bugs"]

  /// File names comments use that are not this repository's files, and why.
  static let elsewhere: [String: String] = [
    "modload.c": "OpenBSD's sbin/modload/modload.c",
    "init_main.c": "OpenBSD's sys/kern/init_main.c",
    "kern_sig.c": "OpenBSD's sys/kern/kern_sig.c",
    "vnode_if.c": "OpenBSD's sys/kern/vnode_if.c (generated)",
    "x86_64.h": "LLVM's llvm/include/llvm/ExecutionEngine/JITLink/x86_64.h",
    "file.c": "a placeholder in a message's format",
    "prog.c": "a placeholder in a message's format",
    "mod.c": "a placeholder in a command line",
    "FILE.c": "a placeholder in a command line",
  ]

  /// Path components that stand for a name (`Fixtures/lkm/mistakes/SOURCE`).
  static let placeholders: Set<String> = ["SOURCE", "NAME", "FILE", "DIR", "KIND"]

  /// A reference that does not exist: where, and what it names.
  struct Dangling: Equatable, CustomStringConvertible {
    var file: String
    var line: Int
    var name: String
    var description: String { "\(file):\(line): '\(name)' does not exist" }
  }

  static var pathPattern: Regex<(Substring, Substring)> {
    #/(?:^|[^\w./-])((?:Sources|Tests|Fixtures|scripts|docs|man|\.bugs)/[\w.+\-/*<>{}$…]*)/#
  }
  static var namePattern: Regex<(Substring, Substring)> {
    #/(?:^|[^\w./<*+-])([\w+-]+\.(?:swift|c|h|md))(?![\w/*])/#
  }

  /// The commented part of a line of a file of this kind: all of it in Markdown, from the
  /// comment's start in code (`//`, `/*`, a `*` continuation; `#` in scripts), else nil.
  static func commentary(_ line: Substring, kind: String) -> Substring? {
    switch kind {
    case "md": return line
    case "py", "sh", "script":
      guard let hash = line.firstIndex(of: "#"), !line[hash...].hasPrefix("#!") else { return nil }
      return line[hash...]
    default:
      if let match = line.firstMatch(of: #/\/\/|\/\*/#) { return line[match.range.lowerBound...] }
      if line.firstMatch(of: #/^\s*\*/#) != nil { return line }
      return nil
    }
  }

  /// The references in `text` (a file of `kind`: its extension, or `script`) that `exists`
  /// (a repository path) and `known` (a file name somewhere in the repository) do not accept.
  static func dangling(
    in text: String, of file: String, kind: String, exists: (String) -> Bool,
    known: (String) -> Bool
  ) -> [Dangling] {
    var found: [Dangling] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    {
      guard let commented = commentary(line, kind: kind) else { continue }
      // An ellipsis stands for what is left out (`Sources/…`): a glob.
      let comment = commented.replacing("…", with: "*")
      for match in comment.matches(of: pathPattern) {
        var path = String(match.1)
        while let last = path.last, ".,:;)/".contains(last) { path.removeLast() }
        let placeholder =
          path.contains(where: { "*<>{}$…".contains($0) })
          || path.split(separator: "/").contains { placeholders.contains(String($0)) }
        if !placeholder && !exists(path) {
          found.append(Dangling(file: file, line: index + 1, name: path))
        }
      }
      for match in comment.matches(of: namePattern) {
        let name = String(match.1)
        if !known(name) && elsewhere[name] == nil {
          found.append(Dangling(file: file, line: index + 1, name: name))
        }
      }
    }
    return found
  }

  /// Every file under `directory` of the repository (without .build, .git, .swiftpm), relative.
  static func files(under directory: String) -> [String] {
    let root = TestSupport.packageRoot
    guard let enumerator = FileManager.default.enumerator(atPath: root + "/" + directory) else {
      return []
    }
    var list: [String] = []
    while let path = enumerator.nextObject() as? String {
      if path.hasPrefix(".build") || path.hasPrefix(".git") || path.hasPrefix(".swiftpm")
        || path.contains("/.build")
      {
        enumerator.skipDescendants()
        continue
      }
      var isDirectory: ObjCBool = false
      let full = root + "/" + directory + "/" + path
      if unsafe FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory),
        !isDirectory.boolValue
      {
        list.append(directory.isEmpty ? path : directory + "/" + path)
      }
    }
    return list
  }
}

@Suite("repository: every path a comment or a document names exists")
struct RepositoryPathTests {
  @Test(
    "no comment in Sources, Tests or scripts, and no line of README.md or docs, names a missing file"
  )
  func everyNamedPathExists() throws {
    let root = TestSupport.packageRoot
    let names = Set(
      RepositoryReferences.files(under: "").map { ($0 as NSString).lastPathComponent })
    var scanned = 0
    var dangling: [RepositoryReferences.Dangling] = []
    let candidates =
      ["Sources", "Tests", "scripts", "docs"].flatMap(RepositoryReferences.files(under:))
      + ["README.md"]
    // This file names missing files on purpose, in the check's own tests.
    for file in candidates where file != "Tests/ToolTests/RepositoryPathTests.swift" {
      let ext = (file as NSString).pathExtension
      let kind = ext.isEmpty && file.hasPrefix("scripts/") ? "script" : ext
      guard ["swift", "c", "h", "cc", "py", "sh", "md", "script"].contains(kind),
        let text = try? String(contentsOfFile: root + "/" + file, encoding: .utf8)
      else { continue }
      scanned += 1
      dangling += RepositoryReferences.dangling(
        in: text, of: file, kind: kind,
        exists: { FileManager.default.fileExists(atPath: root + "/" + $0) },
        known: { names.contains($0) })
    }
    #expect(scanned > 200, "only \(scanned) files scanned")
    #expect(dangling.isEmpty, "\(dangling.map(\.description).joined(separator: "\n"))")
  }

  @Test(
    "the check flags a missing path and a missing file name, and leaves prose, globs and other projects' files alone"
  )
  func checkFlagsWhatItShould() {
    let text = """
      // See Sources/LKMKernel/Kernel+Gone.swift and Kernel+Missing.swift.
      // Fixtures/relocations/<kind>.s, Tests/ToolTests/Device*Tests.swift, Fixtures/lkm/x/SOURCE
      // OpenBSD's sys/kern/kern_gone.c, <gone.h>, ../shared/reference/gone.md, modload.c.
      let path = "Sources/Not/A/Comment.swift"  // but Sources/Present.swift is checked
      /* then Tests/Gone/ and present.c. */
      """
    let found = RepositoryReferences.dangling(
      in: text, of: "x.swift", kind: "swift",
      exists: { $0 == "Sources/Present.swift" }, known: { $0 == "present.c" })
    #expect(
      found.map(\.description) == [
        "x.swift:1: 'Sources/LKMKernel/Kernel+Gone.swift' does not exist",
        "x.swift:1: 'Kernel+Missing.swift' does not exist",
        "x.swift:5: 'Tests/Gone' does not exist",
      ])
  }

  @Test("in a script only what follows # is a comment, and in Markdown every line counts")
  func commentsByKind() {
    let script = "cp Sources/Gone.swift x  # copies Sources/AlsoGone.swift\n"
    #expect(
      RepositoryReferences.dangling(
        in: script, of: "s", kind: "script", exists: { _ in false }, known: { _ in false }
      ).map(\.name) == ["Sources/AlsoGone.swift"])
    #expect(
      RepositoryReferences.dangling(
        in: "Read docs/gone.md.\n", of: "README.md", kind: "md", exists: { _ in false },
        known: { _ in true }
      ).map(\.name) == ["docs/gone.md"])
  }
}
