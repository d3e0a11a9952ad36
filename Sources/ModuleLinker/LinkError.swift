public import ELFObject

/// A module that cannot be linked, with a code for programs and a message for people.
///
/// A link reports every problem it finds of one kind at once (every undefined symbol, every
/// field that does not fit): the first is this error, the rest are in ``others``.
public struct LinkError: Error, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable, Hashable {
    /// The object or archive is malformed (the ``ELFError`` is the cause).
    case malformedInput
    /// A symbol no object, archive or provider defines.
    case undefinedSymbol
    /// Two objects of one module define the same strong symbol.
    case duplicateDefinition
    /// A relocation type this linker does not apply.
    case unsupportedRelocation
    /// A value does not fit the relocation's field.
    case fieldOverflow
    /// No address satisfies every reference the module makes (the fix is to recompile).
    case unplaceable
    /// A section or the whole image is too large, or an alignment is absurd.
    case tooLarge
    /// The kernel refused memory (`mmap`, `mprotect`).
    case memory
    /// The entry point is not defined.
    case noEntryPoint
    /// A feature the module needs that is not supported (thread-local storage).
    case unsupportedFeature
  }

  public var code: Code
  /// Lowercase, general to specific, no trailing period.
  public var message: String
  /// Further problems found by the same link.
  public var others: [LinkError] = []
  /// The symbol an undefined-symbol problem is about.
  public var symbol: String?

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  /// Wraps a reader error.
  public init(_ error: ELFError) {
    self.init(.malformedInput, error.description)
  }

  /// This problem and the others, one line each.
  public var lines: [String] { [message] + others.flatMap(\.lines) }

  public var description: String { lines.joined(separator: "\n") }

  /// All problems, as separate errors.
  public var all: [LinkError] {
    var first = self
    first.others = []
    return [first] + others.flatMap(\.all)
  }

  /// Folds several errors into one (the first carries the others).
  static func combine(_ errors: [LinkError]) -> LinkError? {
    guard var first = errors.first else { return nil }
    first.others += errors.dropFirst()
    return first
  }
}

/// Where a link's problems go, step by step.
///
/// A load stops at the first step that has any problem and throws them all; a check
/// (`modload -n`) records them and goes on, so that it reports every problem of the module.
/// The phases report through it the same way whichever it is.
struct Problems {
  /// Whether problems are recorded and the link goes on (a check), rather than thrown.
  let recordsAndContinues: Bool
  /// What a check recorded.
  var recorded: [LinkError] = []

  /// Records `errors` (a check) or throws them (a load).
  mutating func report(_ errors: [LinkError]) throws(LinkError) {
    guard let error = LinkError.combine(errors) else { return }
    if recordsAndContinues {
      recorded += error.all
    } else {
      throw error
    }
  }

  /// Problems no later step can go past: thrown with everything recorded before them.
  mutating func fatal(_ errors: [LinkError]) throws(LinkError) {
    guard !errors.isEmpty else { return }
    recorded += errors
    throw LinkError.combine(recorded)!
  }
}
