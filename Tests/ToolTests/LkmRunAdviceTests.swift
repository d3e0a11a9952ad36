import Foundation
import TestSupport
import Testing

/// lkmrun's advice when a link fails (issue 12, item 1, for lkmrun): "did you mean" from the
/// dynamic symbol tables of the libraries it resolves against and from the program's own
/// definitions, and one line per cause where modload's link hints have one (a C++ name, the C++
/// library, a compiler option's runtime, a thread-local variable). Each piece of advice that
/// says what to add is followed, and the program then runs.
@Suite("lkmrun: advice for a failed link")
struct LkmRunAdviceTests {
  static let lkmrun = TestSupport.product("lkmrun")

  /// Compiles `source` (C, or C++ when `file` ends in .cc) with `flags` in a new directory.
  static func compile(_ source: String, file: String = "prog.c", flags: String = "-O0")
    throws -> String
  {
    let dir = try TestSupport.temporaryDirectory("lkmrun-advice")
    try source.write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
    let compiler = file.hasSuffix(".cc") ? "g++" : "gcc"
    try TestSupport.shell("\(compiler) -c \(flags) \(file) -o prog.o", directory: dir)
    return dir
  }

  static func run(_ arguments: [String], in dir: String) throws -> TestSupport.Result {
    try TestSupport.run(lkmrun, ["--no-cache"] + arguments, directory: dir)
  }

  /// Offsets in sites vary with the compiler: `main+0x1c (.text+0x2b)` → `main+0xN (.text+0xN)`.
  static func masked(_ text: String) -> String {
    text.replacing(#/\+0x[0-9a-f]+/#, with: "+0xN")
  }

  @Test("misspelled C library functions and the program's own get 'did you mean'")
  func misspellings() throws {
    let dir = try Self.compile(
      """
      int prinft(const char *, ...);
      void *mallco(unsigned long);
      int sqaure(int);
      int square(int x) { return x * x; }
      int main(void) { return prinft("%p %d\\n", mallco(8), sqaure(3)) < 0; }

      """)
    let run = try Self.run(["prog.o"], in: dir)
    #expect(run.status == 1 && run.stdout.isEmpty)
    // In the order the compiler emitted the calls.
    #expect(
      Self.masked(run.stderr).split(separator: "\n").sorted() == [
        "lkmrun: undefined symbol 'mallco' referenced from prog.o:main+0xN (.text+0xN); did you mean 'malloc'?",
        "lkmrun: undefined symbol 'prinft' referenced from prog.o:main+0xN (.text+0xN); did you mean 'printf'?",
        "lkmrun: undefined symbol 'sqaure' referenced from prog.o:main+0xN (.text+0xN); did you mean 'square'?",
      ], "\(run)")
    // A library named with -l is searched for names too.
    let zlib = try Self.compile(
      "unsigned long zlibVersoin(void);\nint main(void) { return zlibVersoin() == 0; }\n")
    let z = try Self.run(["-l", "z", "prog.o"], in: zlib)
    #expect(z.status == 1)
    #expect(Self.masked(z.stderr).hasSuffix("; did you mean 'zlibVersion'?\n"), "\(z)")
    // Nothing near: no suggestion.
    let far = try Self.compile("int qqqzzzxxx(void);\nint main(void) { return qqqzzzxxx(); }\n")
    let none = try Self.run(["prog.o"], in: far)
    #expect(
      Self.masked(none.stderr)
        == "lkmrun: undefined symbol 'qqqzzzxxx' referenced from prog.o:main+0xN (.text+0xN)\n")
  }

  @Test("a C function declared without extern \"C\" in C++ is named as C++ with what to do")
  func cxxName() throws {
    let dir = try Self.compile(
      "int printf(const char *, ...);\nint main() { printf(\"hi\\n\"); return 0; }\n",
      file: "prog.cc")
    let run = try Self.run(["prog.o"], in: dir)
    #expect(
      Self.masked(run.stderr)
        == "lkmrun: undefined symbol '_Z6printfPKcz' referenced from prog.o:main+0xN (.text+0xN); that is the C++ name of printf(char const*, ...): printf is a C function; declare it extern \"C\"\n",
      "\(run)")
  }

  @Test("what the C++ library defines is one line saying -l stdc++, and -l stdc++ runs it")
  func cxxLibrary() throws {
    let dir = try Self.compile(
      """
      #include <cstdio>
      struct A { int x; };
      int main() { A *a = new A(); a->x = 3; std::printf("%d\\n", a->x); delete a; return 0; }

      """, file: "prog.cc")
    let run = try Self.run(["prog.o"], in: dir)
    #expect(
      run.stderr == "lkmrun: undefined symbols '_ZdlPvm', '_Znwm' are in the C++ library: add -l stdc++\n",
      "\(run)")
    let fixed = try Self.run(["-l", "stdc++", "prog.o"], in: dir)
    #expect(fixed.status == 0 && fixed.stdout == "3\n", "\(fixed)")
  }

  @Test("a compiler option's runtime is one line: -fsanitize=undefined takes -l ubsan, which runs it")
  func sanitizers() throws {
    let source = """
      #include <stdio.h>
      int main(int argc, char **argv) { int a[4] = {0}; printf("%d\\n", a[argc + 5] + argc); return 0; }

      """
    let ubsan = try Self.compile(source, flags: "-O0 -fsanitize=undefined")
    let run = try Self.run(["prog.o"], in: ubsan)
    #expect(run.status == 1)
    #expect(
      run.stderr.wholeMatch(
        of: #/lkmrun: undefined symbols? '__ubsan_handle_[a-z0-9_]+'.* comes? from -fsanitize=undefined: add its runtime with -l ubsan\n/#
      ) != nil, "\(run)")
    let fixed = try Self.run(["-l", "ubsan", "prog.o"], in: ubsan)
    #expect(fixed.status == 0 && fixed.stderr.contains("runtime error: index 6 out of bounds"), "\(fixed)")
    let asan = try Self.compile(source, flags: "-O0 -fsanitize=address")
    let address = try Self.run(["prog.o"], in: asan)
    #expect(
      address.stderr.wholeMatch(
        of: #/lkmrun: undefined symbols '__asan_[a-z0-9_]+', '__asan_[a-z0-9_]+' and [0-9]+ more come from -fsanitize=address: AddressSanitizer must be loaded before the C library, and lkmrun links programs against the C library itself: remove -fsanitize=address \(-fsanitize=undefined works, with -l ubsan\)\n/#
      ) != nil, "\(address)")
  }

  @Test("--coverage: the line names gcc's runtime archive, and adding it runs the program")
  func coverage() throws {
    let dir = try Self.compile("int main(void) { return 0; }\n", flags: "-O0 --coverage")
    let run = try Self.run(["prog.o"], in: dir)
    #expect(
      run.stderr.wholeMatch(
        of: #/lkmrun: undefined symbols '__gcov_[a-z_]+', '__gcov_[a-z_]+'( and [0-9]+ more)? come from --coverage: add gcc's runtime to the objects: lkmrun prog.o \$\(gcc -print-file-name=libgcov.a\)\n/#
      ) != nil, "\(run)")
    let archive = try TestSupport.shell("gcc -print-file-name=libgcov.a", directory: dir)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let fixed = try Self.run(["prog.o", archive], in: dir)
    #expect(fixed.status == 0, "\(fixed)")
    #expect(FileManager.default.fileExists(atPath: dir + "/prog.gcda"))
  }

  @Test("a thread-local variable needs no advice: lkmrun has thread-local storage")
  func threadLocal() throws {
    let dir = try Self.compile(
      "__thread int calls;\nint main(void) { return ++calls - 1; }\n")
    let run = try Self.run(["prog.o"], in: dir)
    #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
  }
}
