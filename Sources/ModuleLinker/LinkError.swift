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
    /// A library named with `-l` that the dynamic loader cannot open (the cause is
    /// ``DynamicLoaderError``, dlerror's text).
    case libraryUnavailable
  }

  public var code: Code
  /// Lowercase, general to specific, no trailing period.
  public var message: String
  /// Further problems found by the same link.
  public var others: [LinkError] = []
  /// The symbol an undefined-symbol problem is about.
  public var symbol: String?
  /// Another layer's error that caused this one (an ``ELFError``, a ``DynamicLoaderError``),
  /// for programs to match; its text is already the end of ``message``.
  public var cause: (any Error & Sendable)?

  /// A problem; with a cause, the message is `message: cause` (general to specific, cause
  /// last).
  public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
    self.code = code
    self.message = cause.map { "\(message): \($0)" } ?? message
    self.cause = cause
  }

  /// Wraps a reader error: its text (`FILE: problem`) is the message, and it is the cause.
  public init(_ error: ELFError) {
    self.code = .malformedInput
    self.message = error.description
    self.cause = error
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

/// The dynamic loader's refusal to open a library: dlerror(3)'s text.
public struct DynamicLoaderError: Error, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
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
