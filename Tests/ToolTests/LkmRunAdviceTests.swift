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
      run.stderr
        == "lkmrun: undefined symbols '_ZdlPvm', '_Znwm' are in the C++ library: add -l stdc++\n",
      "\(run)")
    let fixed = try Self.run(["-l", "stdc++", "prog.o"], in: dir)
    #expect(fixed.status == 0 && fixed.stdout == "3\n", "\(fixed)")
  }

  @Test(
    "a compiler option's runtime is one line: -fsanitize=undefined takes -l ubsan, which runs it")
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
        of:
          #/lkmrun: undefined symbols? '__ubsan_handle_[a-z0-9_]+'.* comes? from -fsanitize=undefined: add its runtime with -l ubsan\n/#
      ) != nil, "\(run)")
    let fixed = try Self.run(["-l", "ubsan", "prog.o"], in: ubsan)
    #expect(
      fixed.status == 0 && fixed.stderr.contains("runtime error: index 6 out of bounds"), "\(fixed)"
    )
    let asan = try Self.compile(source, flags: "-O0 -fsanitize=address")
    let address = try Self.run(["prog.o"], in: asan)
    #expect(
      address.stderr.wholeMatch(
        of:
          #/lkmrun: undefined symbols '__asan_[a-z0-9_]+', '__asan_[a-z0-9_]+' and [0-9]+ more come from -fsanitize=address: AddressSanitizer must be loaded before the C library, and lkmrun links programs against the C library itself: remove -fsanitize=address \(-fsanitize=undefined works, with -l ubsan\)\n/#
      ) != nil, "\(address)")
  }

  @Test("--coverage: the line names gcc's runtime archive, and adding it runs the program")
  func coverage() throws {
    let dir = try Self.compile("int main(void) { return 0; }\n", flags: "-O0 --coverage")
    let run = try Self.run(["prog.o"], in: dir)
    #expect(
      run.stderr.wholeMatch(
        of:
          #/lkmrun: undefined symbols '__gcov_[a-z_]+', '__gcov_[a-z_]+'( and [0-9]+ more)? come from --coverage: add gcc's runtime to the objects: lkmrun prog.o \$\(gcc -print-file-name=libgcov.a\)\n/#
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

/// libstdc++'s writable data objects that lkmrun-cxx, the lkmrun of programs linked with
/// -l stdc++, copies into itself (Sources/CLkmrunHostCxx/hostdata_cxx.c): copy relocations are
/// an executable's link-time decision, so the list was made from one libstdc++ and must be
/// remade for another. lkmrun itself links libstdc++ statically and loads no libstdc++.so.6.
@Suite("lkmrun: the copies of libstdc++'s data")
struct LkmRunHostDataTests {
  static let lkmrun = TestSupport.product("lkmrun")
  static let lkmrunCxx = TestSupport.product("lkmrun-cxx")

  /// The shared libraries `ldd` lists for `executable`, by name.
  static func libraries(_ executable: String) throws -> [String] {
    try TestSupport.shell("ldd '\(executable)'").split(separator: "\n").compactMap {
      $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init)
    }
  }

  @Test("lkmrun loads no libstdc++.so.6, lkmrun-cxx does, and -l stdc++ runs in lkmrun-cxx")
  func twoExecutables() throws {
    #expect(!(try Self.libraries(Self.lkmrun)).contains("libstdc++.so.6"))
    #expect(try Self.libraries(Self.lkmrunCxx).contains("libstdc++.so.6"))
    let dir = try TestSupport.temporaryDirectory("lkmrun-cxx")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Which executable runs the program: /proc/self/exe, read by the program.
    try """
    #include <cstdio>
    #include <iostream>
    #include <unistd.h>
    int main() {
      char path[4096];
      ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
      if (n < 0) return 2;
      path[n] = 0;
      std::cout << path << std::endl;
      return 0;
    }

    """.write(toFile: dir + "/which.cc", atomically: true, encoding: .utf8)
    try TestSupport.shell("g++ -c -O2 which.cc -o which.o", directory: dir)
    let run = try TestSupport.run(
      Self.lkmrun, ["--no-cache", "-l", "stdc++", "which.o"], directory: dir)
    let resolved = try TestSupport.shell("realpath '\(Self.lkmrunCxx)'")
    #expect(run.status == 0 && run.stdout == resolved, "\(run)")
    // Without lkmrun-cxx beside it, lkmrun says what is missing.
    try TestSupport.shell("cp '\(Self.lkmrun)' alone", directory: dir)
    let alone = try TestSupport.run(dir + "/alone", ["-lstdc++", "which.o"], directory: dir)
    #expect(alone.status == 1 && alone.stdout.isEmpty)
    let real = try TestSupport.shell("realpath '\(dir)'").dropLast()
    #expect(
      alone.stderr == "lkmrun: -l stdc++ needs \(real)/lkmrun-cxx: No such file or directory\n",
      "\(alone)")
  }

  /// Default-PIE C++ code names libstdc++'s data PC-relatively beside stdout (gcc's
  /// -mpie-copy-relocations), so each writable object must have a copy where stdout's is.
  /// Guard variables (`_ZGV…`) are left out: module code never names libstdc++'s, as it
  /// instantiates none of the templates they guard; thread-local ones cannot be copied.
  @Test("lkmrun-cxx copies every writable data object of the host's libstdc++")
  func everyWritableObjectIsCopied() throws {
    let ldd = try TestSupport.shell("ldd '\(Self.lkmrunCxx)'")
    let library = try #require(
      ldd.split(separator: "\n").first { $0.contains("libstdc++.so.6 => ") }
        .map { String($0.split(separator: " ")[2]) }, "lkmrun-cxx loads no libstdc++:\n\(ldd)")
    // Section index → name, then every defined OBJECT in .data or .bss.
    var sections: [String: String] = [:]
    for line in try TestSupport.shell("readelf -SW '\(library)'").split(separator: "\n") {
      let fields = line.replacing("[ ", with: "[").split(separator: " ")
      if fields.count > 2, fields[0].hasPrefix("["), fields[0].hasSuffix("]") {
        sections[String(fields[0].dropFirst().dropLast())] = String(fields[1])
      }
    }
    var writable: Set<String> = []
    for line in try TestSupport.shell("readelf -W --dyn-syms '\(library)'").split(separator: "\n") {
      let f = line.split(separator: " ")
      guard f.count >= 8, f[3] == "OBJECT", let name = sections[String(f[6])],
        name == ".data" || name == ".bss"
      else { continue }
      let symbol = String(f[7].prefix { $0 != "@" })
      if !symbol.hasPrefix("_ZGV") { writable.insert(symbol) }
    }
    #expect(writable.count > 40, "\(library): \(writable.count) writable objects")
    var copied: Set<String> = []
    for line in try TestSupport.shell("readelf -W -r '\(Self.lkmrunCxx)'").split(separator: "\n")
    where line.contains("R_X86_64_COPY") {
      // offset, info, type, the symbol's value, name@version, +, addend
      let f = line.split(separator: " ")
      if let k = f.firstIndex(of: "R_X86_64_COPY"), k + 2 < f.count {
        copied.insert(String(f[k + 2].prefix { $0 != "@" }))
      }
    }
    let missing = writable.subtracting(copied).sorted()
    #expect(
      missing.isEmpty,
      """
      \(library) has writable data lkmrun-cxx does not copy; add to lkmrun_host_cxx_data_count \
      in Sources/CLkmrunHostCxx/hostdata_cxx.c: \(missing.joined(separator: " "))
      """)
  }

  /// A guard variable of libstdc++'s is writable data lkmrun has no copy of.
  @Test("libstdc++'s data with no copy, out of reach, is named as such, with -fPIC as the fix")
  func uncopiedDataOutOfReach() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun-copies")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try """
    \t.text
    \t.globl main
    \t.type main, @function
    main:
    \tmov stdout(%rip), %rax
    \tmovzbl _ZGVNSt7collateIcE2idE(%rip), %eax
    \txor %eax, %eax
    \tret
    \t.size main, .-main
    \t.section .note.GNU-stack,"",@progbits

    """.write(toFile: dir + "/guard.s", atomically: true, encoding: .utf8)
    try TestSupport.shell("as --64 -o guard.o guard.s", directory: dir)
    let run = try TestSupport.run(
      Self.lkmrun, ["--no-cache", "-l", "stdc++", "guard.o"], directory: dir)
    #expect(run.status == 1 && run.stdout.isEmpty)
    #expect(
      run.stderr.replacing(#/0x[0-9a-f]+/#, with: "0xN")
        == "lkmrun: guard.o:main+0xN (.text+0xN): R_X86_64_PC32 against '_ZGVNSt7collateIcE2idE': "
        + "'_ZGVNSt7collateIcE2idE' at 0xN is 0xN bytes away, beyond the ±2 GiB a 32-bit "
        + "PC-relative reference reaches (the module was placed within reach of 'stdout' at 0xN, "
        + "which guard.o:main+0xN (.text+0xN) references PC-relatively); it is the C++ library's "
        + "data, of which lkmrun has no copy within reach (only the iostreams' and locale facets' "
        + "objects are copied): recompile with -fPIC (or -mno-direct-extern-access) so that it is "
        + "reached through the GOT\n", "\(run)")
  }
}
