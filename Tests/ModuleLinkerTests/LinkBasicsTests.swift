import ELFObject
import Foundation
import ModuleLinker
import TestSupport
import Testing

/// Compiles C `source` with `flags` into a temporary object and returns its path.
func compileC(_ source: String, flags: String = "-O2", compiler: String = "gcc") throws -> String {
  let dir = try TestSupport.temporaryDirectory("link")
  try source.write(toFile: dir + "/m.c", atomically: true, encoding: .utf8)
  try TestSupport.shell("\(compiler) -c \(flags) m.c -o m.o", directory: dir)
  return dir + "/m.o"
}

func link(_ paths: [String], libraries: [String] = []) throws -> LoadedModule {
  let inputs = try paths.map { try LinkInput.read($0) }
  let host = try HostSymbolProvider(libraries: libraries)
  return try ModuleLinker(options: LinkOptions(providers: [host])).link(inputs)
}

@Suite("Linking basics")
struct LinkBasicsTests {
  @Test("a function's result comes back through main")
  func callsMain() throws {
    let path = try compileC(
      "int twice(int x) { return 2 * x; } int main(void) { return twice(21); }")
    let module = try link([path])
    #expect(module.callMain("main", arguments: ["m"]) == 42)
  }

  @Test("every undefined symbol is reported at once, with its sites")
  func undefinedSymbols() throws {
    let path = try compileC(
      "extern int nothere(void); extern int alsomissing; int main(void) { return nothere() + alsomissing; }"
    )
    let error = #expect(throws: LinkError.self) { try link([path]) }
    #expect(error?.code == .undefinedSymbol)
    let lines = error?.lines ?? []
    #expect(lines.count == 2)
    #expect(
      lines.contains { $0.hasPrefix("undefined symbol 'nothere' referenced from \(path):main") })
    #expect(
      lines.contains { $0.hasPrefix("undefined symbol 'alsomissing' referenced from \(path):main") }
    )
  }

  @Test("a weak undefined symbol is zero")
  func weakUndefined() throws {
    let path = try compileC(
      "extern int maybe(void) __attribute__((weak)); int main(void) { return maybe ? 1 : 5; }")
    #expect(try link([path]).callMain("main", arguments: []) == 5)
  }

  @Test("two strong definitions in one module are an error naming both objects")
  func duplicates() throws {
    let a = try compileC("int shared = 1; int main(void) { return shared; }")
    let b = try compileC("int shared = 2;")
    let error = #expect(throws: LinkError.self) { try link([a, b]) }
    #expect(error?.code == .duplicateDefinition)
    #expect(error?.message == "duplicate definition of 'shared' in \(b) and \(a)")
  }

  @Test("segments are never writable and executable, and text is executable")
  func protections() throws {
    let path = try compileC("int x = 3; const int y = 4; int main(void) { return x + y; }")
    let module = try link([path])
    let segments = module.statistics.segments
    #expect(segments.map(\.protection.description) == ["r-x", "r--", "rw-"])
    #expect(module.callMain("main", arguments: []) == 7)
  }
}
