import CDemangle
import ELFObject
public import ModuleLinker

/// What to do about the common mistakes a link reports, one line each: a C library function
/// (what kernel code uses instead, or lkmd --host-symbols), a C++ name (demangled, with
/// "declare it extern \"C\""), the symbols of a compiler option the kernel has no runtime for
/// (one line per option, with the option to remove), and objects that hold no machine code
/// (LTO).
///
/// ``hint(for:)`` is the kernel's suggestion for one undefined symbol (before "did you mean");
/// ``explain(_:)`` folds a link's problems into one line per cause. The kernel applies both to
/// every link it reports (a load, `modload -n`, `modload -n -A`).
public enum LinkHints {
  // MARK: - Objects that are not machine code

  /// The reason an input holds no machine code the kernel could link, or nil: LLVM bitcode
  /// (clang -flto) or a GCC LTO object with only GIMPLE (gcc -flto without -ffat-lto-objects).
  public static func objectProblem(_ bytes: [UInt8], name: String) -> LinkError? {
    let bitcode: [[UInt8]] = [[0x42, 0x43, 0xC0, 0xDE], [0xDE, 0xC0, 0x17, 0x0B]]
    if bytes.count >= 4, bitcode.contains(Array(bytes[0..<4])) {
      return LinkError(
        .malformedInput,
        "\(name): is LLVM bitcode (clang -flto), not machine code: compile modules without -flto")
    }
    guard bytes.count >= 64, bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46] else { return nil }
    // The symbol's name, NUL-terminated, is in the file's bytes if the symbol is; most objects
    // do not hold it, and a scan costs far less than reading the object a second time.
    guard contains(bytes, Array("__gnu_lto_slim\0".utf8)) else { return nil }
    let file = FileBytes(bytes, name: name)
    guard let object = try? ObjectFile(bytes: file, offset: 0, count: bytes.count, name: name)
    else { return nil }
    var slim = false
    for i in object.symbols.indices where i != 0 {
      if object.symbolName(i) == "__gnu_lto_slim" { slim = true }
    }
    if slim {
      return LinkError(
        .malformedInput,
        "\(name): holds GCC's intermediate code only (gcc -flto), not machine code: compile modules without -flto, or with -ffat-lto-objects"
      )
    }
    return nil
  }

  /// Whether `needle` (not empty) occurs in `bytes`.
  static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
    guard let first = needle.first, bytes.count >= needle.count else { return false }
    var i = 0
    let last = bytes.count - needle.count
    while i <= last {
      if bytes[i] == first {
        var j = 1
        while j < needle.count, bytes[i + j] == needle[j] { j += 1 }
        if j == needle.count { return true }
      }
      i += 1
    }
    return false
  }

  // MARK: - One undefined symbol

  /// The names the kernel exports to modules (its table's names; the addresses are not
  /// looked at, so that a tool that never boots the kernel, lkmctl modinfo, may ask).
  ///
  /// - Precondition: the process never boots the kernel: the C side builds its table once, and
  ///   built before the kernel's arenas exist its data addresses would be wrong.
  public static var kernelExportNames: Set<String> { Set(Bridge.exports.map(\.name)) }

  /// What kernel code does instead of calling a C library function, when there is a usual
  /// answer.
  static let kernelAlternatives: [String: String] = [
    "malloc": "kernel code uses malloc(size, M_TEMP, M_WAITOK) of <sys/malloc.h>",
    "fopen":
      "a module has no files: data comes from the calling process through copyin(9) or uiomove(9)",
    "fclose":
      "a module has no files: data comes from the calling process through copyin(9) or uiomove(9)",
    "fread":
      "a module has no files: data comes from the calling process through copyin(9) or uiomove(9)",
    "fwrite":
      "a module has no files: data goes to the calling process through copyout(9) or uiomove(9)",
    "fgets":
      "a module has no files: data comes from the calling process through copyin(9) or uiomove(9)",
    "fputs": "kernel code uses printf (the console and dmesg) or uprintf (the calling process)",
    "open":
      "a module has no files: data comes from the calling process through copyin(9) or uiomove(9)",
    "read":
      "a module has no files: data comes from the calling process through copyin(9) or uiomove(9)",
    "write": "kernel code uses printf, or copyout(9) and uiomove(9) to the calling process",
    "close":
      "a module has no files: data comes from the calling process through copyin(9) or uiomove(9)",
    "sleep": "kernel code does not sleep in the C library: return, and let the process call again",
    "usleep": "kernel code does not sleep in the C library: return, and let the process call again",
    "nanosleep":
      "kernel code does not sleep in the C library: return, and let the process call again",
    "calloc": "kernel code uses malloc(size, M_TEMP, M_WAITOK | M_ZERO) of <sys/malloc.h>",
    "realloc": "kernel code uses malloc(9) and memcpy",
    "free": "kernel code uses free(addr, M_TEMP) of <sys/malloc.h>",
    "strdup": "kernel code uses malloc(9) and strlcpy",
    "sprintf": "kernel code uses snprintf",
    "vsprintf": "kernel code uses vsnprintf",
    "fprintf": "kernel code uses printf (the console and dmesg) or uprintf (the calling process)",
    "dprintf": "kernel code uses printf or uprintf",
    "perror": "kernel code uses printf or log(9)",
    "strcpy": "kernel code uses strlcpy",
    "strcat": "kernel code uses strlcat",
    "strncat": "kernel code uses strlcat",
    "strtol": "kernel code uses its own digit loop (the kernel parses no numbers)",
    "strtoul": "kernel code uses its own digit loop (the kernel parses no numbers)",
    "strtoll": "kernel code uses its own digit loop (the kernel parses no numbers)",
    "strtoull": "kernel code uses its own digit loop (the kernel parses no numbers)",
    "atoi": "kernel code uses its own digit loop (the kernel parses no numbers)",
    "atol": "kernel code uses its own digit loop (the kernel parses no numbers)",
    "exit": "kernel code uses an errno returned from the hook, or panic(9)",
    "_exit": "kernel code uses an errno returned from the hook, or panic(9)",
    "abort": "kernel code uses panic(9)",
    "__assert_fail": "kernel code uses panic(9) (assert(3) is the C library's)",
    "time": "kernel code uses time_second of <sys/kernel.h>",
    "gettimeofday": "kernel code uses microtime(9) of <sys/time.h>",
    "clock_gettime": "kernel code uses nanotime(9) of <sys/time.h>",
    "getpid": "kernel code uses the calling process's p->p_pid (struct proc of <sys/proc.h>)",
    "getuid": "kernel code uses the calling process's p->p_uid (struct proc of <sys/proc.h>)",
    "geteuid":
      "kernel code uses the calling process's credentials, p->p_ucred (<sys/ucred.h>), or suser(9)",
    "getgid": "kernel code uses the calling process's credentials, p->p_ucred (<sys/ucred.h>)",
    "rand": "kernel code uses arc4random(9) or arc4random_uniform(9) of <dev/rndvar.h>",
    "random": "kernel code uses arc4random(9) or arc4random_uniform(9) of <dev/rndvar.h>",
    "getrandom": "kernel code uses arc4random_buf(9) of <dev/rndvar.h>",
    "__errno_location":
      "kernel code uses the errno a kernel function returns (errno is the C library's)",
  ]

  /// "fopen is a C library function; …" for an undefined symbol the host's C library defines,
  /// a demangled explanation for a C++ name; nil otherwise (then the kernel's "did you mean").
  public static func hint(for name: String, hostSymbolsEnabled: Bool = false) -> String? {
    if instrumentation(name) != nil { return nil }
    if let text = cxxHint(name) { return text }
    guard isCLibraryFunction(name) else { return nil }
    var text = "\(name) is a C library function"
    if let alternative = kernelAlternatives[name] {
      text += "; \(alternative)"
    } else {
      text += ", which the kernel does not have"
    }
    if !hostSymbolsEnabled { text += "; or start lkmd with --host-symbols" }
    return text
  }

  /// Whether the host's C library (libc, libm) defines `name`: looked up in this process.
  static func isCLibraryFunction(_ name: String) -> Bool {
    unsafe !name.hasPrefix("_Z") && cdemangle_is_libc_function(name) != 0
  }

  /// The demangled form of an Itanium C++ name, or nil.
  public static func demangle(_ name: String) -> String? {
    guard name.hasPrefix("_Z") else { return nil }
    var buffer = [CChar](repeating: 0, count: 1024)
    guard unsafe cdemangle(name, &buffer, buffer.count) == 0 else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func cxxHint(_ name: String) -> String? {
    guard let demangled = demangle(name) else { return nil }
    let base = demangled.prefix { $0 != "(" && $0 != "<" }
    if base.contains(":") {
      return "that is the C++ name of \(demangled), which the kernel does not have"
    }
    return
      "that is the C++ name of \(demangled): the kernel's functions are C functions; declare \(base) extern \"C\""
  }

  // MARK: - Causes that span many symbols

  /// A compiler option whose runtime the kernel lacks: what it is and what to do.
  struct Instrumentation: Hashable {
    let option: String
    let advice: String
  }

  /// The option an undefined symbol comes from, if it is an instrumentation symbol.
  static func instrumentation(_ name: String) -> Instrumentation? {
    func starts(_ prefixes: String...) -> Bool { prefixes.contains { name.hasPrefix($0) } }
    if starts("__asan_") {
      return Instrumentation(
        option: "-fsanitize=address",
        advice:
          "the kernel has no AddressSanitizer runtime (it would need shadow memory for all of the kernel): remove -fsanitize=address; -fsanitize=undefined and -fstack-protector work"
      )
    }
    if starts("__hwasan_") {
      return Instrumentation(
        option: "-fsanitize=hwaddress",
        advice: "the kernel has no HWAddressSanitizer runtime: remove -fsanitize=hwaddress")
    }
    if starts("__tsan_") {
      return Instrumentation(
        option: "-fsanitize=thread",
        advice: "the kernel has no ThreadSanitizer runtime: remove -fsanitize=thread")
    }
    if starts("__msan_") {
      return Instrumentation(
        option: "-fsanitize=memory",
        advice: "the kernel has no MemorySanitizer runtime: remove -fsanitize=memory")
    }
    if starts("__sanitizer_cov_") {
      return Instrumentation(
        option: "-fsanitize-coverage",
        advice: "the kernel collects no coverage: remove -fsanitize-coverage")
    }
    if ["mcount", "_mcount", "__fentry__"].contains(name) {
      return Instrumentation(
        option: "-pg",
        advice:
          "the kernel has no profiler to count calls: remove -pg (perf(1) profiles modules without it)"
      )
    }
    if starts("__cyg_profile_func_") {
      return Instrumentation(
        option: "-finstrument-functions",
        advice: "the kernel has no function-entry hooks: remove -finstrument-functions")
    }
    if starts("__gcov_", "__llvm_gcov", "__llvm_profile_", "__llvm_gcda_") {
      return Instrumentation(
        option: "--coverage",
        advice:
          "the kernel writes no coverage data: remove --coverage (-fprofile-arcs, -ftest-coverage, -fprofile-instr-generate)"
      )
    }
    if starts("__ubsan_handle_") {
      return Instrumentation(
        option: "-fsanitize=undefined",
        advice:
          "the kernel's UBSan runtime has no handler for these checks (C++'s vptr and function checks): add -fno-sanitize=vptr,function"
      )
    }
    if starts("__x86_indirect_thunk_", "__x86_return_thunk") {
      return Instrumentation(
        option: "-mindirect-branch=thunk-extern",
        advice:
          "the thunks are the Linux kernel's: remove -mindirect-branch=thunk-extern and -mfunction-return=thunk-extern"
      )
    }
    if name.hasPrefix("__") && name.hasSuffix("_chk") && name != "__stack_chk_fail" {
      let plain = String(name.dropFirst(2).dropLast(4))
      if isCLibraryFunction(plain) || isCLibraryFunction(name) {
        return Instrumentation(
          option: "-D_FORTIFY_SOURCE",
          advice:
            "the checked functions are the C library's: compile modules with -U_FORTIFY_SOURCE")
      }
    }
    if [
      "__gxx_personality_v0", "_Unwind_Resume", "__cxa_begin_catch", "__cxa_end_catch",
      "__cxa_allocate_exception", "__cxa_throw", "__cxa_rethrow",
    ].contains(name) {
      return Instrumentation(
        option: "C++ exceptions",
        advice: "the kernel unwinds no exceptions: compile C++ modules with -fno-exceptions")
    }
    if ["__cxa_guard_acquire", "__cxa_guard_release", "__cxa_guard_abort"].contains(name) {
      return Instrumentation(
        option: "C++ thread-safe statics",
        advice:
          "a function-local static with a constructor needs the C++ runtime's guards: compile C++ modules with -fno-threadsafe-statics"
      )
    }
    if ["_Znw", "_Zna", "_Zdl", "_Zda"].contains(where: { name.hasPrefix($0) }) {
      return Instrumentation(
        option: "C++ new and delete",
        advice:
          "the kernel has no C++ allocator: define operator new and operator delete in the module with malloc(9) and free(9)"
      )
    }
    if name.hasPrefix("_ZTI") || name.hasPrefix("_ZTVN10__cxxabiv") || name == "__dynamic_cast" {
      return Instrumentation(
        option: "C++ RTTI",
        advice: "the kernel has no C++ type information: compile C++ modules with -fno-rtti")
    }
    return nil
  }

  /// Folds a link's problems into one line per cause: the undefined symbols of one compiler
  /// option become one line naming the option. Other problems keep their lines, in their order.
  public static func explain(_ error: LinkError) -> LinkError {
    var kept: [LinkError] = []
    var byOption: [Instrumentation: [String]] = [:]
    var options: [Instrumentation] = []
    for problem in error.all {
      if problem.code == .undefinedSymbol, let symbol = problem.symbol,
        let option = instrumentation(symbol)
      {
        if byOption[option] == nil { options.append(option) }
        byOption[option, default: []].append(symbol)
        continue
      }
      kept.append(problem)
    }
    var lines: [LinkError] = []
    for option in options {
      let symbols = byOption[option]!.sorted()
      let shown = symbols.prefix(2).map { "'\($0)'" }.joined(separator: ", ")
      let more = symbols.count > 2 ? " and \(symbols.count - 2) more" : ""
      let noun = symbols.count == 1 ? "undefined symbol" : "undefined symbols"
      var e = LinkError(
        .undefinedSymbol,
        "\(noun) \(shown)\(more) come\(symbols.count == 1 ? "s" : "") from \(option.option): \(option.advice)"
      )
      e.symbol = symbols[0]
      lines.append(e)
    }
    return combined(kept + lines) ?? error
  }
}
