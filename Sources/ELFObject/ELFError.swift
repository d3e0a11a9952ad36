/// An object file or archive that cannot be used, with the file and the exact problem.
///
/// `code` is for tests and programs; `description` is for people: `FILE: problem`, lowercase,
/// numbers in `0x` hex, names in single quotes.
public struct ELFError: Error, Sendable, CustomStringConvertible, Equatable {
  /// What kind of problem it is.
  public enum Code: String, Sendable, Hashable {
    /// The file could not be read at all (the host `errno` text follows).
    case unreadable
    /// The file is shorter than a structure it must hold.
    case truncated
    /// Not an ELF file, or an ELF file this loader cannot take (class, byte order, machine, type).
    case unsupportedFormat
    /// An ELF header field is out of its legal range.
    case badHeader
    /// The section header table, or a section's data, lies outside the file.
    case outOfFile
    /// A section header field (link, info, alignment, entry size, flags) is invalid.
    case badSection
    /// A string table is not NUL-terminated, or a name offset is outside it.
    case badStringTable
    /// A symbol refers to a section that does not exist, or the symbol table is malformed.
    case badSymbol
    /// A relocation's symbol index or offset is out of range, or its section is malformed.
    case badRelocation
    /// A COMDAT group section is malformed.
    case badGroup
    /// The ar archive is malformed.
    case badArchive
    /// libelf itself refused the input.
    case libelf
  }

  /// The problem, for matching.
  public var code: Code
  /// The file (or `archive(member)`) the problem is in.
  public var file: String
  /// What is wrong: lowercase, no trailing period.
  public var message: String

  public init(_ code: Code, file: String, _ message: String) {
    self.code = code
    self.file = file
    self.message = message
  }

  public var description: String { "\(file): \(message)" }
}
