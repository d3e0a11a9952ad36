import Foundation
import TestSupport
import Testing

/// The symbol-checking fixtures, compiled once per run (Fixtures/check).
enum CheckFixtures {
  static func object(_ name: String) throws -> String {
    try KernelFixtures.object("../check/\(name).c", as: "check_\(name)")
  }
}

/// Replaces every `+0x…` offset with `+0x?`, and a static load hook's name with its entry's
/// (whether the compiler inlined the hook is its business): the report's shape and names are
/// ours.
func maskOffsets(_ text: String) -> String {
  text.replacingOccurrences(of: #"\+0x[0-9a-f]+"#, with: "+0x?", options: .regularExpression)
    .replacingOccurrences(of: #":([a-z_]+)_load\+"#, with: ":$1+", options: .regularExpression)
}

@Suite("Symbol checking: modload -n and -A", .serialized)
struct SymbolCheckTests {
  @Test("one undefined symbol: exit 1, one line naming the site")
  func missingOne() throws {
    let object = try CheckFixtures.object("missing_one")
    try withKernel { kernel in
      let run = try kernel.run("modload", "-n", "-e", "missing_one", object)
      #expect(run.status == 1 && run.stdout.isEmpty)
      #expect(
        maskOffsets(run.stderr)
          == "modload: undefined symbol 'not_in_kernel' referenced from \(object):missing_one+0x? (.text+0x?)\n"
      )
      // Nothing was loaded.
      #expect(try kernel.modstat().split(separator: "\n").count == 1)
    }
  }

  @Test("a static entry: the check and the load give the same verdict")
  func staticEntry() throws {
    let object = try CheckFixtures.object("static_entry")
    try withKernel { kernel in
      expectRun(try kernel.run("modload", "-n", "-e", "static_entry", object), 0)
      expectRun(
        try kernel.run("modload", "-e", "static_entry", object), 0,
        stdout: "Module loaded as ID 0\n")
      // Loaded now: both say so.
      expectRun(
        try kernel.run("modload", "-n", "-e", "static_entry", object), 1,
        stderr: "modload: module 'static_entry' is already loaded\n")
      let symbols = try kernel.run("lkmctl", "ksyms").stdout
      let file = try TestSupport.temporaryDirectory("lkm-ksyms") + "/ksyms"
      try symbols.write(toFile: file, atomically: true, encoding: .utf8)
      expectRun(
        try kernel.run("modload", "-n", "-A", file, "-e", "static_entry", object), 1,
        stderr: "modload: module 'static_entry' is already loaded\n")
    }
  }

  @Test("many undefined symbols: every one once, the sites of each, then 'and N more'")
  func missingMany() throws {
    let object = try CheckFixtures.object("missing_many")
    try withKernel { kernel in
      let run = try kernel.run("modload", "-n", "-e", "missing_many", object)
      #expect(run.status == 1)
      #expect(
        maskOffsets(run.stderr) == """
          modload: undefined symbol 'gone_often' referenced from \(object):helper_one+0x? (.text+0x?), \(object):helper_one+0x? (.text+0x?), \(object):helper_two+0x? (.text+0x?) and 2 more
          modload: undefined symbol 'gone_once' referenced from \(object):missing_many+0x? (.text+0x?)
          modload: undefined symbol 'gone_data' referenced from \(object):missing_many+0x? (.text+0x?)

          """)
    }
  }

  @Test("a misspelled kernel function gets 'did you mean'")
  func misspelled() throws {
    let object = try CheckFixtures.object("misspelled")
    try withKernel { kernel in
      let run = try kernel.run("modload", "-n", "-e", "misspelled", object)
      #expect(run.status == 1)
      let lines = maskOffsets(run.stderr).split(separator: "\n").map(String.init)
      #expect(lines.count == 3)
      #expect(
        lines.contains {
          $0.hasPrefix("modload: undefined symbol 'printk' referenced from")
            && $0.hasSuffix("; did you mean 'printf'?")
        })
      #expect(
        lines.contains {
          $0.hasPrefix("modload: undefined symbol 'Strlen' referenced from")
            && $0.hasSuffix("; did you mean 'strlen'?")
        })
      #expect(
        lines.contains {
          $0.hasPrefix("modload: undefined symbol '_bzero' referenced from")
            && $0.hasSuffix("; did you mean 'bzero'?")
        })
    }
  }

  @Test("a module exporting what the kernel exports is refused, naming the owner")
  func collidesWithKernel() throws {
    let object = try CheckFixtures.object("collide")
    try withKernel { kernel in
      expectRun(
        try kernel.run("modload", "-n", "-e", "collide", object), 1,
        stderr: "modload: 'hz' is already exported by the kernel\n")
      expectRun(
        try kernel.run("modload", "-e", "collide", object), 1,
        stderr: "modload: 'hz' is already exported by the kernel\n")
      // Loaded with -s it exports nothing, so it loads.
      expectRun(
        try kernel.run("modload", "-s", "-e", "collide", object), 0,
        stdout: "Module loaded as ID 0\n")
    }
  }

  @Test("a weak undefined reference is a warning with -v, and the module loads")
  func weakReference() throws {
    let object = try CheckFixtures.object("weak_ref")
    try withKernel { kernel in
      expectRun(try kernel.run("modload", "-n", "-e", "weak_ref", object), 0)
      let verbose = try kernel.run("modload", "-n", "-v", "-e", "weak_ref", object)
      #expect(verbose.status == 0)
      #expect(
        verbose.stderr.hasSuffix(
          "modload: warning: weak symbol 'optional_feature' is not defined: it is 0\n"))
      expectRun(
        try kernel.run("modload", "-e", "weak_ref", object), 0, stdout: "Module loaded as ID 0\n")
      #expect(try kernel.dmesg().contains("weak_ref: optional_feature is absent\n"))
    }
  }

  @Test("a symbol from a module not loaded yet: refused, suggested when loaded with -s, then fine")
  func dependencyLoadedLater() throws {
    let a = try CheckFixtures.object("chain_a")
    let b = try CheckFixtures.object("chain_b")
    try withKernel { kernel in
      let before = try kernel.run("modload", "-n", "-e", "chain_b", b)
      #expect(before.status == 1)
      #expect(
        maskOffsets(before.stderr)
          == "modload: undefined symbol 'chain_a_value' referenced from \(b):chain_b_value+0x? (.text+0x?)\n"
      )
      // Loaded with -s, chain_a defines it without exporting it: the report says so.
      expectRun(
        try kernel.run("modload", "-s", "-e", "chain_a", a), 0, stdout: "Module loaded as ID 0\n")
      let hidden = try kernel.run("modload", "-n", "-e", "chain_b", b)
      #expect(
        hidden.stderr.hasSuffix("; module 'chain_a' (id 0) defines it, but was loaded with -s\n"))
      expectRun(try kernel.run("modunload", "-n", "chain_a"), 0)
      expectRun(try kernel.run("modload", "-e", "chain_a", a), 0, stdout: "Module loaded as ID 0\n")
      expectRun(try kernel.run("modload", "-n", "-e", "chain_b", b), 0)
      // A second copy of a loaded module is refused by name.
      expectRun(
        try kernel.run("modload", "-n", "-s", "-e", "chain_a", a), 1,
        stderr: "modload: module 'chain_a' is already loaded\n")
    }
  }

  @Test("a chain A <- B <- C loads in order, unloads only in reverse, and modstat -v shows users")
  func chain() throws {
    let a = try CheckFixtures.object("chain_a")
    let b = try CheckFixtures.object("chain_b")
    let c = try CheckFixtures.object("chain_c")
    try withKernel { kernel in
      expectRun(try kernel.run("modload", "-e", "chain_a", a), 0, stdout: "Module loaded as ID 0\n")
      expectRun(try kernel.run("modload", "-e", "chain_b", b), 0, stdout: "Module loaded as ID 1\n")
      expectRun(try kernel.run("modload", "-e", "chain_c", c), 0, stdout: "Module loaded as ID 2\n")
      #expect(try kernel.dmesg().contains("chain_c: chain_b_value() = 41\n"))
      let rows = try kernel.modstat("-v").split(separator: "\n").map(String.init)
      #expect(
        rows[0] == "Type     Id Off Loadaddr         Size Info             Rev Refs Module Name")
      // -v: the users, then the file each module came from.
      #expect(rows[1].hasSuffix("   2    1 chain_a (used by chain_b) from \(a)"))
      #expect(rows[2].hasSuffix("   2    1 chain_b (used by chain_c) from \(b)"))
      #expect(rows[3].hasSuffix("   2    0 chain_c from \(c)"))
      expectRun(
        try kernel.run("modunload", "-n", "chain_a"), 5,
        stderr: "modunload: LMUNLOAD: Device busy\nmodunload: in use by: chain_b\n")
      expectRun(
        try kernel.run("modunload", "-n", "chain_b"), 5,
        stderr: "modunload: LMUNLOAD: Device busy\nmodunload: in use by: chain_c\n")
      expectRun(try kernel.run("modunload", "-n", "chain_c"), 0)
      expectRun(try kernel.run("modunload", "-n", "chain_b"), 0)
      expectRun(try kernel.run("modunload", "-n", "chain_a"), 0)
      #expect(try kernel.modstat().split(separator: "\n").count == 1)
    }
  }

  @Test("modload -n -A ksyms gives the verdict the live kernel gives, for every fixture")
  func offlineEqualsLive() throws {
    let names = [
      "missing_one", "missing_many", "misspelled", "collide", "weak_ref", "chain_a", "chain_b",
      "chain_c",
    ]
    let objects = try names.map(CheckFixtures.object)
    try withKernel { kernel in
      // Two kernel states: nothing loaded, and chain_a + chain_b loaded.
      for state in 0..<2 {
        if state == 1 {
          _ = try kernel.run("modload", "-e", "chain_a", objects[5])
          _ = try kernel.run("modload", "-e", "chain_b", objects[6])
        }
        let ksyms = try kernel.run("lkmctl", "ksyms")
        #expect(ksyms.status == 0)
        let file = kernel.directory + "/kernel-\(state).syms"
        try ksyms.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        for (name, object) in zip(names, objects) {
          for flags in [["-n"], ["-n", "-v"]] {
            let live = try kernel.run("modload", flags + ["-e", name, object])
            let offline = try TestSupport.run(
              TestSupport.product("modload"), flags + ["-A", file, "-e", name, object])
            #expect(
              Outcome(status: offline.status, stdout: offline.stdout, stderr: offline.stderr)
                == live.outcome,
              "\(name) \(flags) in state \(state)")
          }
        }
      }
    }
  }

  @Test("a symbol file with a bad line is an error naming the file and line")
  func badSymbolFile() throws {
    let object = try CheckFixtures.object("chain_a")
    let dir = try TestSupport.temporaryDirectory("syms")
    try "0000000000001000 T printf\nnot a symbol line at all here\n".write(
      toFile: dir + "/bad.syms", atomically: true, encoding: .utf8)
    let run = try TestSupport.run(
      TestSupport.product("modload"), ["-n", "-A", dir + "/bad.syms", "-e", "chain_a", object])
    #expect(run.status == 1)
    #expect(
      run.stderr
        == "modload: \(dir)/bad.syms:2: expected 'ADDRESS TYPE NAME [MODULE]': 'not a symbol line at all here'\n"
    )
    let missing = try TestSupport.run(
      TestSupport.product("modload"), ["-n", "-A", dir + "/none.syms", "-e", "chain_a", object])
    #expect(missing.status == 1)
    // OpenBSD's second line names the program, not the file (issue 12).
    #expect(
      missing.stderr
        == "modload: can't open \(dir)/none.syms\nmodload: please specify alternative kernel executable with -A option\n"
    )
  }

  @Test("lkmctl ksyms -m and a pattern, and lkmctl addr")
  func ksymsAndAddr() throws {
    let a = try CheckFixtures.object("chain_a")
    try withKernel { kernel in
      expectRun(try kernel.run("modload", "-e", "chain_a", a), 0, stdout: "Module loaded as ID 0\n")
      let mine = try kernel.run("lkmctl", "ksyms", "-m", "chain_a")
      #expect(mine.status == 0)
      let line = try #require(mine.stdout.split(separator: "\n").first.map(String.init))
      #expect(
        line.hasSuffix(" T chain_a_value\t[chain_a]")
          && mine.stdout.split(separator: "\n").count == 1)
      let address = String(line.prefix(16))
      let pattern = try kernel.run("lkmctl", "ksyms", "-m", "kernel", "str*cpy")
      #expect(
        pattern.stdout.split(separator: "\n").map { $0.split(separator: " ").last! } == [
          "strlcpy", "strncpy",
        ])
      let value = UInt64(address, radix: 16)! + 3
      expectRun(
        try kernel.run("lkmctl", "addr", String(value, radix: 16)), 0,
        stdout: "0x\(String(value, radix: 16)) is in module 'chain_a' (id 0): chain_a_value+0x3\n")
      expectRun(
        try kernel.run("lkmctl", "addr", "0x10"), 1,
        stderr: "lkmctl: 0x10: not in the kernel or a loaded module\n")
    }
  }
}
