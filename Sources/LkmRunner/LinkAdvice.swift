// What lkmrun adds to a failed link's lines, as modload's link hints do for modules: "did you
// mean" from the names the host libraries define (their dynamic symbol tables, read in memory)
// and the program's own, a C++ name demangled, the C++ library, and one line per compiler
// option. Nothing here runs unless a link has failed. (lkmrun has thread-local storage: a
// thread-local problem left, a relocation against an ordinary variable or a block too large
// for the reservation, keeps the linker's line.)
import CDemangle
import CLkmrunHost
import ELFObject
import ModuleLinker
import Synchronization

/// Advice for the undefined symbols and unsupported features of a failed link.
final class LinkAdvice: Sendable {
  /// The objects and archives given (their definitions are candidates too).
  let inputs: [String]
  /// The host libraries resolved against, as `HostSymbolProvider.libraries` names them.
  let libraries: [String]
  /// The names "did you mean" chooses from, read on first use.
  private let candidates = Mutex<[String]?>(nil)

  init(inputs: [String], libraries: [String]) {
    self.inputs = inputs
    self.libraries = libraries
  }

  /// The linker's `suggest`: advice for one undefined symbol, appended to its line.
  var suggest: @Sendable (String) -> String? { { [self] name in hint(for: name) } }

  /// What to say about one undefined symbol; nil for those ``explain(_:)`` folds into a line
  /// of their own (a compiler option's runtime, the C++ library).
  func hint(for name: String) -> String? {
    if LinkAdvice.instrumentation(name) != nil || LinkAdvice.isInCXXLibrary(name) { return nil }
    if let demangled = LinkAdvice.demangle(name) {
      let base = String(demangled.prefix { $0 != "(" && $0 != "<" })
      if !base.contains(":"), names.contains(base) {
        return
          "that is the C++ name of \(demangled): \(base) is a C function; declare it extern \"C\""
      }
      return "that is the C++ name of \(demangled)"
        + (nearest(to: name).map { "; did you mean '\($0)'?" } ?? "")
    }
    return nearest(to: name).map { "did you mean '\($0)'?" }
  }

  /// A name the libraries or the program define at a small edit distance from `name`.
  func nearest(to name: String) -> String? {
    SymbolSuggestion.nearest(to: name, in: names)
  }

  /// The candidates: the libraries' functions and objects, and the inputs' global definitions.
  var names: [String] {
    candidates.withLock { known in
      if let known { return known }
      var set: Set<String> = []
      for library in libraries { set.formUnion(LinkAdvice.definitions(of: library)) }
      for path in inputs { set.formUnion(LinkAdvice.definitions(in: path)) }
      let list = Array(set)
      known = list
      return list
    }
  }

  /// The names a loaded library's dynamic symbol table defines.
  static func definitions(of library: String) -> [String] {
    var length = 0
    guard let buffer = unsafe lkmrun_library_symbol_names(library, &length) else { return [] }
    defer { unsafe system_free(buffer) }
    let bytes = unsafe UnsafeRawBufferPointer(start: buffer, count: length)
    return unsafe bytes.split(separator: 0).map { unsafe String(decoding: $0, as: UTF8.self) }
  }

  /// The global names an object defines, or an archive's index lists.
  static func definitions(in path: String) -> [String] {
    switch try? LinkInput.read(path) {
    case .object(let object)?:
      return object.symbols.indices.compactMap { i in
        let s = object.symbols[i]
        return i == 0 || s.isUndefined || s.isLocal ? nil : object.symbolName(i)
      }
    case .archive(let archive)?:
      return Array(archive.symbolIndex.keys)
    case nil:
      return []
    }
  }

  /// The demangled form of an Itanium C++ name, or nil.
  static func demangle(_ name: String) -> String? {
    guard name.hasPrefix("_Z") else { return nil }
    var buffer = [CChar](repeating: 0, count: 1024)
    guard unsafe cdemangle(name, &buffer, buffer.count) == 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Whether the C++ library (or the unwinder it brings) defines `name`: operator new,
  /// `__cxa_*`, typeinfo, `_Unwind_Resume`, `std::` functions.
  static func isInCXXLibrary(_ name: String) -> Bool {
    guard let library = cxxLibrary.withLock({ $0 }) else { return false }
    return system_dlsymDefines(library, name)
  }

  /// Whether `name` is a data object of libstdc++ that lkmrun has no copy of: the global
  /// lookup finds libstdc++'s own (a copy in lkmrun, which libstdc++ is bound to, comes first).
  static func isUncopiedCXXData(_ name: String) -> Bool {
    guard let library = cxxLibrary.withLock({ $0 }),
      let own = system_dlsymAddress(library, name)
    else { return false }
    return system_dlsymAddress(nil, name) == own
  }

  /// libstdc++, opened on first use (nil if it cannot be), as an address.
  private static let cxxLibrary = Mutex<UInt?>(
    system_dlopen("libstdc++.so.6"))

  // MARK: - Causes that span many symbols

  /// A compiler option whose runtime lkmrun does not load, and what to do.
  struct Instrumentation: Hashable {
    let option: String
    let advice: String
  }

  /// The option an undefined symbol comes from, if it is an instrumentation symbol.
  static func instrumentation(_ name: String) -> Instrumentation? {
    func starts(_ prefixes: String...) -> Bool { prefixes.contains { name.hasPrefix($0) } }
    if starts("__ubsan_handle_") {
      return Instrumentation(
        option: "-fsanitize=undefined", advice: "add its runtime with -l ubsan")
    }
    if starts("__asan_") {
      return Instrumentation(
        option: "-fsanitize=address",
        advice:
          "AddressSanitizer must be loaded before the C library, and lkmrun links programs against the C library itself: remove -fsanitize=address (-fsanitize=undefined works, with -l ubsan)"
      )
    }
    for (prefix, option, sanitizer) in [
      ("__hwasan_", "-fsanitize=hwaddress", "HWAddressSanitizer"),
      ("__tsan_", "-fsanitize=thread", "ThreadSanitizer"),
      ("__msan_", "-fsanitize=memory", "MemorySanitizer"),
    ] where name.hasPrefix(prefix) {
      return Instrumentation(
        option: option,
        advice:
          "\(sanitizer) must be loaded before the C library, which lkmrun cannot do: remove \(option)"
      )
    }
    if starts("__sanitizer_cov_") {
      return Instrumentation(
        option: "-fsanitize-coverage",
        advice: "define the callbacks in the program, or remove -fsanitize-coverage")
    }
    if starts("__gcov_") {
      return Instrumentation(
        option: "--coverage",
        advice: "add gcc's runtime to the objects: lkmrun prog.o $(gcc -print-file-name=libgcov.a)")
    }
    if starts("__llvm_profile_", "__llvm_gcov", "__llvm_gcda_") {
      return Instrumentation(
        option: "clang's profiling",
        advice:
          "add clang's runtime to the objects: lkmrun prog.o $(clang -print-file-name=libclang_rt.profile-x86_64.a)"
      )
    }
    if starts("__cyg_profile_func_") {
      return Instrumentation(
        option: "-finstrument-functions",
        advice:
          "define __cyg_profile_func_enter and __cyg_profile_func_exit in the program, or remove -finstrument-functions"
      )
    }
    if starts("__x86_indirect_thunk_", "__x86_return_thunk") {
      return Instrumentation(
        option: "-mindirect-branch=thunk-extern",
        advice:
          "the thunks are the Linux kernel's: remove -mindirect-branch=thunk-extern and -mfunction-return=thunk-extern"
      )
    }
    return nil
  }

  /// Folds a link's problems into one line per cause: the undefined symbols of one compiler
  /// option and those the C++ library defines (one line each). Other problems keep their
  /// lines, in their order.
  func explain(_ error: LinkError) -> LinkError {
    var kept: [LinkError] = []
    var byOption: [Instrumentation: [String]] = [:]
    var options: [Instrumentation] = []
    var cxx: [String] = []
    for var problem in error.all {
      if problem.code == .fieldOverflow, let symbol = problem.symbol,
        LinkAdvice.isUncopiedCXXData(symbol)
      {
        // Out of reach: libstdc++'s, where lkmrun keeps no copy (hostdata.c).
        problem.message = problem.message.replacing(
          "; recompile with -fPIC",
          with: "; it is the C++ library's data, of which lkmrun has no copy within reach "
            + "(only the iostreams' and locale facets' objects are copied): recompile with -fPIC")
      }
      if problem.code == .undefinedSymbol, let symbol = problem.symbol {
        if let option = LinkAdvice.instrumentation(symbol) {
          if byOption[option] == nil { options.append(option) }
          byOption[option, default: []].append(symbol)
          continue
        }
        if LinkAdvice.isInCXXLibrary(symbol) {
          cxx.append(symbol)
          continue
        }
      }
      kept.append(problem)
    }
    var lines: [LinkError] = []
    if !cxx.isEmpty {
      var e = LinkError(
        .undefinedSymbol,
        "\(LinkAdvice.list(cxx)) \(cxx.count == 1 ? "is" : "are") in the C++ library: add -l stdc++"
      )
      e.symbol = cxx.sorted()[0]
      lines.append(e)
    }
    for option in options {
      let symbols = byOption[option]!
      var e = LinkError(
        .undefinedSymbol,
        "\(LinkAdvice.list(symbols)) come\(symbols.count == 1 ? "s" : "") from \(option.option): \(option.advice)"
      )
      e.symbol = symbols.sorted()[0]
      lines.append(e)
    }
    guard var first = (kept + lines).first else { return error }
    first.others = Array((kept + lines).dropFirst())
    return first
  }

  /// `undefined symbol 'a'`, `undefined symbols 'a', 'b'`, `… 'a', 'b' and 3 more`, sorted.
  static func list(_ symbols: [String]) -> String {
    let sorted = symbols.sorted()
    let shown = sorted.prefix(2).map { "'\($0)'" }.joined(separator: ", ")
    let more = sorted.count > 2 ? " and \(sorted.count - 2) more" : ""
    return "\(sorted.count == 1 ? "undefined symbol" : "undefined symbols") \(shown)\(more)"
  }
}
