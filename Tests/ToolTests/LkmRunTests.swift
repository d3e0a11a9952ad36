import Foundation
import TestSupport
import Testing

@Suite("lkmrun")
struct LkmRunTests {
  static let lkmrun = TestSupport.product("lkmrun")

  @Test("runs main with its arguments and exits with its status")
  func runsMain() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun")
    try """
      #include <stdio.h>
      int main(int argc, char **argv) { for (int i = 1; i < argc; i++) printf("%s\\n", argv[i]); return argc; }
      """.write(toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c m.c -o m.o", directory: dir)
    let result = try TestSupport.run(Self.lkmrun, [dir + "/m.o", "--", "one", "two"])
    #expect(result.stdout == "one\ntwo\n")
    #expect(result.status == 3 && !result.signaled)
  }

  @Test("-n links without running")
  func linkOnly() throws {
    let dir = try TestSupport.temporaryDirectory("lkmrun")
    try "#include <stdio.h>\nint main(void) { puts(\"ran\"); return 4; }".write(
      toFile: dir + "/m.c", atomically: true, encoding: .utf8)
    try TestSupport.shell("gcc -c m.c -o m.o", directory: dir)
    let result = try TestSupport.run(Self.lkmrun, ["-n", dir + "/m.o"])
    #expect(result.stdout == "" && result.status == 0)
  }
}
